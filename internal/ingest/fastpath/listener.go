package fastpath

import (
	"net"
	"sync"
	"time"
)

// ListenConfig configures a Listener.
type ListenConfig struct {
	// FirstRead bounds the wait for a new connection's first bytes (the
	// RTSP library sets no deadline before the first request).
	FirstRead time.Duration
	// Batch is the read batching interval of the connections (NewConn).
	Batch time.Duration
	// SplitRTSP follows the RTSP structure of the connections' streams, so
	// that their frames can be tapped (NewRTSPConn).
	SplitRTSP bool
}

// Listener reads the connections of a listener in batches, and can stop
// accepting without reporting an error to the server loop that owns it:
// after Stop, Accept blocks until Close, so the server keeps its sessions
// (drain). It does not bound the connections: the listener it wraps does
// (ingest gives it a netlimit.Listener), and the connections that one
// returns may wrap their socket as long as their reads are the socket's
// and NetConn returns it (as netlimit's do): the batched reads go to the
// socket itself (see socket).
type Listener struct {
	net.Listener
	cfg  ListenConfig
	bufs *Buffers

	once    sync.Once
	stopped chan struct{}
	closed  chan struct{}
	cOnce   sync.Once
}

// NewListener wraps ln.
func NewListener(ln net.Listener, cfg ListenConfig) *Listener {
	return &Listener{Listener: ln, cfg: cfg, bufs: NewBuffers(),
		stopped: make(chan struct{}), closed: make(chan struct{})}
}

// Accept returns the next connection of the wrapped listener, batched
// (and split, with SplitRTSP) and with its first read bounded.
func (g *Listener) Accept() (net.Conn, error) {
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
	_ = c.SetReadDeadline(time.Now().Add(g.cfg.FirstRead))
	bc := newBatchConn(c, g.cfg.Batch, g.bufs)
	if g.cfg.SplitRTSP {
		bc.split = &rtspSplitter{}
	}
	return bc, nil
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
