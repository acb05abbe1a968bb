// Package netlimit bounds the connections a listener holds open at once,
// in all and per source address, so that a few clients opening
// connections (and feeding them slowly) cannot take all of a server's
// sockets, goroutines and buffers. It is the one connection cap of the
// project: the public HTTP listener (internal/app) and the RTSP and RTMP
// ingest listeners (internal/ingest, under its fast read path) use it.
// Time bounds on reading requests are the servers' own.
package netlimit

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Limits bound the connections of one listener; zero means no bound.
type Limits struct {
	// Max is the most connections open at once.
	Max int
	// PerSource is the most connections open at once from one source: an
	// IPv4 address, or an IPv6 /64 (what one host usually has).
	PerSource int
	// Refusal, when set, is written to a refused connection (for HTTP, a
	// 503 answer) before it is closed.
	Refusal []byte
	// OnRefuse, when set, is called with the remote address of every
	// refused connection (for a log), on the accepting goroutine.
	OnRefuse func(remote net.Addr)
}

// Listener is a net.Listener that closes connections over its Limits as
// soon as they are accepted, and counts them.
type Listener struct {
	net.Listener
	lim Limits

	mu      sync.Mutex
	open    int
	bySrc   map[netip.Prefix]int
	refused atomic.Int64
}

// Listen wraps ln with lim.
func Listen(ln net.Listener, lim Limits) *Listener {
	return &Listener{Listener: ln, lim: lim, bySrc: map[netip.Prefix]int{}}
}

// Refused is how many connections were closed for being over the limits.
func (l *Listener) Refused() int64 { return l.refused.Load() }

// Open is how many admitted connections are open.
func (l *Listener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// Accept returns the next connection within the limits; connections over
// them are refused (closed) without being returned.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		src := source(c.RemoteAddr())
		if l.admit(src) {
			return &conn{Conn: c, release: func() { l.release(src) }}, nil
		}
		l.refused.Add(1)
		if l.lim.OnRefuse != nil {
			l.lim.OnRefuse(c.RemoteAddr())
		}
		go l.refuse(c)
	}
}

// admit counts a new connection from src, unless it is over a limit.
func (l *Listener) admit(src netip.Prefix) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lim.Max > 0 && l.open >= l.lim.Max {
		return false
	}
	if l.lim.PerSource > 0 && src.IsValid() && l.bySrc[src] >= l.lim.PerSource {
		return false
	}
	l.open++
	if src.IsValid() {
		l.bySrc[src]++
	}
	return true
}

// release uncounts a closed connection from src.
func (l *Listener) release(src netip.Prefix) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if !src.IsValid() {
		return
	}
	if l.bySrc[src]--; l.bySrc[src] <= 0 {
		delete(l.bySrc, src)
	}
}

// refuse answers Refusal, if any, within a second, and closes c.
func (l *Listener) refuse(c net.Conn) {
	if len(l.lim.Refusal) > 0 {
		_ = c.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = c.Write(l.lim.Refusal)
	}
	_ = c.Close()
}

// source is the counting key of a remote address: the IPv4 address, or
// the IPv6 /64; invalid for addresses that are not IP.
func source(a net.Addr) netip.Prefix {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.Prefix{}
	}
	ip, ok := netip.AddrFromSlice(ta.IP)
	if !ok {
		return netip.Prefix{}
	}
	ip = ip.Unmap()
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, _ := ip.Prefix(bits)
	return p
}

// conn releases its place in the listener's counts once, when closed.
// Reads and writes go straight to the connection it wraps.
type conn struct {
	net.Conn
	once    sync.Once
	release func()
}

// NetConn returns the connection c wraps, as tls.Conn's NetConn does, for
// a reader that needs the socket itself (ingest's fast path reads it
// through its file descriptor); the bytes are the same either way, but
// only Close frees c's place.
func (c *conn) NetConn() net.Conn { return c.Conn }

// Close closes the connection and frees its place.
func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
