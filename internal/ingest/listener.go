package ingest

import (
	"log/slog"
	"net"
	"sync"
	"time"
)

// gateListener bounds the number of open connections and can stop accepting
// without reporting an error to the server loop that owns it: after stop,
// Accept blocks until Close, so the server keeps its sessions (drain).
type gateListener struct {
	net.Listener
	slots chan struct{}
	log   *slog.Logger
	name  string
	// firstRead bounds the wait for a new connection's first bytes (the
	// RTSP library sets no deadline before the first request).
	firstRead time.Duration
	// batch is the read batching interval of the connections (batchConn).
	batch time.Duration
	bufs  *readBuffers
	// splitRTSP follows the RTSP structure of the connections' streams,
	// so that video frames can be tapped (rtspSplitter).
	splitRTSP bool

	once    sync.Once
	stopped chan struct{}
	closed  chan struct{}
	cOnce   sync.Once
}

func newGateListener(ln net.Listener, maxConns int, firstRead, batch time.Duration, name string, log *slog.Logger) *gateListener {
	return &gateListener{Listener: ln, slots: make(chan struct{}, maxConns), firstRead: firstRead, batch: batch, bufs: newReadBuffers(), log: log, name: name,
		stopped: make(chan struct{}), closed: make(chan struct{})}
}

// Accept returns the next connection while a slot is free; connections over
// the limit are closed at once.
func (g *gateListener) Accept() (net.Conn, error) {
	for {
		c, err := g.Listener.Accept()
		if err != nil {
			select {
			case <-g.stopped:
				<-g.closed
				return nil, net.ErrClosed
			default:
				return nil, err
			}
		}
		select {
		case g.slots <- struct{}{}:
			c.SetReadDeadline(time.Now().Add(g.firstRead))
			bc := newBatchConn(c, g.batch, g.bufs)
			if g.splitRTSP {
				bc.split = &rtspSplitter{}
			}
			return &gateConn{batchConn: bc, release: func() { <-g.slots }}, nil
		default:
			g.log.Warn("connection limit reached, refusing connection", "listener", g.name,
				"limit", cap(g.slots), "remote", c.RemoteAddr().String())
			c.Close()
		}
	}
}

// stop closes the socket so nothing new connects; open connections stay.
func (g *gateListener) stop() {
	g.once.Do(func() {
		close(g.stopped)
		g.Listener.Close()
	})
}

// Close stops accepting and unblocks Accept.
func (g *gateListener) Close() error {
	g.stop()
	g.cOnce.Do(func() { close(g.closed) })
	return nil
}

// gateConn frees its listener slot once closed, and reads in batches.
type gateConn struct {
	*batchConn
	once    sync.Once
	release func()
}

func (c *gateConn) Close() error {
	err := c.batchConn.Close()
	c.once.Do(c.release)
	return err
}
