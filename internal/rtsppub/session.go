// Package rtsppub publishes media to an RTSP server (ANNOUNCE, SETUP,
// RECORD, interleaved over TCP, or TLS for rtsps) with a write path that
// does no per-packet work beyond building the packet.
//
// The edge agent relays every camera to the cloud's ingest at all times;
// with gortsplib's client each RTP packet cost a 1472-byte buffer, a
// closure, a queue hand-off to a writer goroutine and a deadline update,
// which together with the library's packetisers was most of the relay's
// CPU and much of the process's garbage. Here an access unit is cut into
// packets by package rtppack straight into one reused buffer and written
// to the connection from the caller's goroutine; sender reports are sent
// from the same goroutine at the unit they describe. The control exchange
// is short and uses gortsplib's own message, header, SDP and
// authentication types; contract tests run the session against
// gortsplib's server and decode what it receives with gortsplib's
// depacketisers.
package rtsppub

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/conn"
	"github.com/bluenviron/gortsplib/v5/pkg/description"

	"github.com/camcloud/camcloud/internal/rtppack"
)

// DefaultTimeout bounds the control exchange, and each write of media
// (a server that stops reading ends the session after it).
const DefaultTimeout = 10 * time.Second

// Track is one announced media: how it is described, its clock and the
// packetiser that cuts its units into RTP packets (whose SSRC is SSRC).
type Track struct {
	// Media is the SDP media, with one format (its payload type is the
	// packetiser's).
	Media *description.Media
	// ClockRate is the RTP clock of the format.
	ClockRate int
	// SSRC is the packetiser's synchronisation source; sender reports carry it.
	SSRC uint32
	// Pack cuts units into RTP packets.
	Pack rtppack.Packetizer
}

// Config is how a Session connects.
type Config struct {
	// Dial opens the TCP connection (net.Dialer.DialContext when nil); the
	// relay wraps it to gather writes (package coalesce).
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// Wrap, when set, wraps the connection (after TLS for rtsps) before use.
	Wrap func(net.Conn) net.Conn
	// TLS is the client configuration for rtsps (ServerName is set from
	// the URL when empty).
	TLS *tls.Config
	// Timeout bounds the control exchange and each media write
	// (DefaultTimeout when 0).
	Timeout time.Duration
	// ReportPeriod is how often each track sends an RTCP sender report
	// (10 s when 0), at a unit whose PTS equals its DTS.
	ReportPeriod time.Duration
}

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("rtsppub: session closed")

// Session is one recording session. Write is called from one goroutine.
type Session struct {
	nc      net.Conn
	flusher interface{ Flush() error } // nc, when it gathers writes; else nil
	timeout time.Duration
	period  time.Duration
	tracks  []*trackState
	frame   []byte // '$', channel, length, then the packet: reused

	readDone chan struct{}
	readErr  error

	closeOnce sync.Once
	failed    error // the first write failure; later writes return it
}

// trackState is what a session keeps of a track while it sends.
type trackState struct {
	Track
	channel    byte // the even interleaved channel (RTP); RTCP is channel+1
	packets    uint32
	octets     uint32
	lastReport time.Time
	reported   bool
	emit       rtppack.Emit // writes to the session: made once
}

// Start connects to rawURL (rtsp:// or rtsps://), announces tracks and
// starts recording. The server's answers and anything it sends later
// (receiver reports) are read by a goroutine; Wait returns when the
// connection ends.
func Start(ctx context.Context, rawURL string, tracks []Track, cfg Config) (*Session, error) {
	if len(tracks) == 0 {
		return nil, errors.New("rtsppub: no tracks")
	}
	u, err := base.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("rtsppub: invalid URL: %w", err)
	}
	if u.Scheme != "rtsp" && u.Scheme != "rtsps" {
		return nil, fmt.Errorf("rtsppub: unsupported scheme %q (want rtsp or rtsps)", u.Scheme)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.ReportPeriod <= 0 {
		cfg.ReportPeriod = 10 * time.Second
	}
	nc, err := dial(ctx, u, cfg)
	if err != nil {
		return nil, err
	}
	s := &Session{nc: nc, timeout: cfg.Timeout, period: cfg.ReportPeriod, readDone: make(chan struct{})}
	s.flusher, _ = nc.(interface{ Flush() error })
	for i := range tracks {
		t := &trackState{Track: tracks[i], channel: byte(2 * i)}
		t.emit = func(pkt []byte) error { return s.writePacket(t, pkt) }
		s.tracks = append(s.tracks, t)
	}
	rc := conn.NewConn(bufio.NewReaderSize(nc, 4096), nc)
	_ = nc.SetDeadline(time.Now().Add(cfg.Timeout))
	if err := s.handshake(ctx, rc, u); err != nil {
		_ = nc.Close()
		return nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	go s.read(rc)
	return s, nil
}

// dial opens the connection u names, with TLS for rtsps.
func dial(ctx context.Context, u *base.URL, cfg Config) (net.Conn, error) {
	d := cfg.Dial
	if d == nil {
		d = (&net.Dialer{}).DialContext
	}
	host := u.Host
	if u.Port() == "" {
		port := "554"
		if u.Scheme == "rtsps" {
			port = "322"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	dctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	nc, err := d(dctx, "tcp", host)
	if err != nil {
		return nil, fmt.Errorf("rtsppub: connect: %w", err)
	}
	if u.Scheme == "rtsps" {
		tc := cfg.TLS.Clone()
		if tc == nil {
			tc = &tls.Config{}
		}
		if tc.ServerName == "" {
			tc.ServerName = u.Hostname()
		}
		t := tls.Client(nc, tc)
		if err := t.HandshakeContext(dctx); err != nil {
			_ = nc.Close()
			return nil, fmt.Errorf("rtsppub: TLS: %w", err)
		}
		nc = t
	}
	if cfg.Wrap != nil {
		nc = cfg.Wrap(nc)
	}
	return nc, nil
}

// read consumes what the server sends after RECORD (receiver reports,
// answers) until the connection ends, and keeps why.
func (s *Session) read(rc *conn.Conn) {
	defer close(s.readDone)
	for {
		if _, err := rc.Read(); err != nil {
			s.readErr = err
			return
		}
	}
}

// Wait returns when the connection has ended: the server closed it, or it
// failed, or Close was called.
func (s *Session) Wait() error {
	<-s.readDone
	if s.readErr == nil {
		return ErrClosed
	}
	return fmt.Errorf("rtsppub: connection ended: %w", s.readErr)
}

// Done is closed when the connection has ended (see Wait).
func (s *Session) Done() <-chan struct{} { return s.readDone }

// Close ends the session and its connection.
func (s *Session) Close() error {
	var err error
	s.closeOnce.Do(func() { err = s.nc.Close() })
	<-s.readDone
	return err
}
