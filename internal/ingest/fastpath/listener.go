package fastpath

import (
	"log/slog"
	"net"
	"sync"
	"time"
)

// ListenConfig configures a Listener.
type ListenConfig struct {
	// MaxConns bounds the open connections; those over it are closed at once.
	MaxConns int
	// FirstRead bounds the wait for a new connection's first bytes (the
	// RTSP library sets no deadline before the first request).
	FirstRead time.Duration
	// Batch is the read batching interval of the connections (NewConn).
	Batch time.Duration
	// SplitRTSP follows the RTSP structure of the connections' streams, so
	// that their frames can be tapped (NewRTSPConn).
	SplitRTSP bool
	// Name names the listener in logs ("rtsp", "rtmp").
	Name string
	// Log receives the refusals; required.
	Log *slog.Logger
}

// Listener bounds the number of open connections, reads them in batches,
// and can stop accepting without reporting an error to the server loop
// that owns it: after Stop, Accept blocks until Close, so the server keeps
// its sessions (drain).
type Listener struct {
	net.Listener
	cfg   ListenConfig
	slots chan struct{}
	bufs  *Buffers

	once    sync.Once
	stopped chan struct{}
	closed  chan struct{}
	cOnce   sync.Once
}

// NewListener wraps ln.
func NewListener(ln net.Listener, cfg ListenConfig) *Listener {
	return &Listener{Listener: ln, cfg: cfg, slots: make(chan struct{}, cfg.MaxConns), bufs: NewBuffers(),
		stopped: make(chan struct{}), closed: make(chan struct{})}
}

// Accept returns the next connection while a slot is free; connections over
// the limit are closed at once.
func (g *Listener) Accept() (net.Conn, error) {
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
			c.SetReadDeadline(time.Now().Add(g.cfg.FirstRead))
			bc := newBatchConn(c, g.cfg.Batch, g.bufs)
			if g.cfg.SplitRTSP {
				bc.split = &rtspSplitter{}
			}
			return &gateConn{batchConn: bc, release: func() { <-g.slots }}, nil
		default:
			g.cfg.Log.Warn("connection limit reached, refusing connection", "listener", g.cfg.Name,
				"limit", cap(g.slots), "remote", c.RemoteAddr().String())
			c.Close()
		}
	}
}

// Stop closes the socket so nothing new connects; open connections stay.
func (g *Listener) Stop() {
	g.once.Do(func() {
		close(g.stopped)
		g.Listener.Close()
	})
}

// Close stops accepting and unblocks Accept.
func (g *Listener) Close() error {
	g.Stop()
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
