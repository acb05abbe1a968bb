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

	once    sync.Once
	stopped chan struct{}
	closed  chan struct{}
	cOnce   sync.Once
}

func newGateListener(ln net.Listener, maxConns int, firstRead time.Duration, name string, log *slog.Logger) *gateListener {
	return &gateListener{Listener: ln, slots: make(chan struct{}, maxConns), firstRead: firstRead, log: log, name: name,
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
			return &gateConn{Conn: c, release: func() { <-g.slots }}, nil
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

// readAhead is the read buffer of an ingest connection. The protocol
// libraries read through 4 KiB bufio.Readers; a camera sends a video frame
// as a burst of packets, often larger than that, so reading up to
// readAhead bytes per system call takes a whole burst at once and saves
// most of the read calls (and their scheduler wake-ups) of a stream.
const readAhead = 32 << 10

// gateConn frees its listener slot once closed, and reads ahead.
type gateConn struct {
	net.Conn
	once    sync.Once
	release func()

	buf        []byte // allocated at the first read
	start, end int    // unread bytes are buf[start:end]
}

// Read serves p from the read-ahead buffer, refilling it with one read of
// the connection when it is empty. Large reads bypass it.
func (c *gateConn) Read(p []byte) (int, error) {
	if c.start == c.end {
		if len(p) >= readAhead {
			return c.Conn.Read(p)
		}
		if c.buf == nil {
			c.buf = make([]byte, readAhead)
		}
		n, err := c.Conn.Read(c.buf)
		c.start, c.end = 0, n
		if n == 0 {
			return 0, err
		}
	}
	n := copy(p, c.buf[c.start:c.end])
	c.start += n
	return n, nil
}

func (c *gateConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
