package ingest

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/ingest/fastpath"
	"github.com/camcloud/camcloud/internal/netlimit"
)

// Defaults for Config.
const (
	DefaultReadTimeout = 10 * time.Second
	DefaultMaxConns    = 4096
	// authTimeout bounds one AuthorizePublish call.
	authTimeout = 5 * time.Second
)

// Config configures a Server.
type Config struct {
	// RTSPAddr is the RTSP listen address (":8554"); empty disables RTSP.
	RTSPAddr string
	// RTMPAddr is the RTMP listen address (":1935"); empty disables RTMP.
	RTMPAddr string
	// UDPRTPAddr and UDPRTCPAddr (consecutive ports, RTP even) enable the
	// RTSP UDP transport; both empty means TCP only.
	UDPRTPAddr, UDPRTCPAddr string
	// Hub receives the published streams. Required.
	Hub *hub.Hub
	// Auth decides every publish. Required.
	Auth Authorizer
	// Events receives presence; optional.
	Events Events
	// Log receives the server's logs; optional.
	Log *slog.Logger
	// ReadTimeout drops a connection that sends nothing for this long
	// (default 10 s).
	ReadTimeout time.Duration
	// MediaTimeout drops a publish that sends no media for this long while
	// its connection stays up (default DefaultMediaTimeout).
	MediaTimeout time.Duration
	// MaxConns bounds the open connections per protocol (default 4096).
	MaxConns int
	// MaxConnsPerSource bounds the open connections per protocol from one
	// IPv4 address or IPv6 /64 (netlimit); 0 (the default) sets no bound,
	// since a site's cameras often share one address.
	MaxConnsPerSource int
	// ReadBatch is how long a TCP ingest connection lets media gather in
	// the kernel between reads once its socket is empty (see fastpath);
	// zero reads as data arrives. The serve default is in config.
	ReadBatch time.Duration
	// Registerer, when not nil, registers the camcloud_ingest_* metrics
	// of pushed cameras (protocol "rtsp").
	Registerer prometheus.Registerer
}

// Server accepts RTSP and RTMP publishers and feeds their streams to the hub.
type Server struct {
	cfg Config

	rtsp   *gortsplib.Server
	rtspLn *fastpath.Listener
	rtmpLn *fastpath.Listener
	paths  *videoPaths
	// rtspBreaks and rtmpBreaks count timestamp breaks by protocol.
	rtspBreaks, rtmpBreaks func()

	wg        sync.WaitGroup
	mu        sync.Mutex
	rtmpConns map[net.Conn]struct{}
	closed    bool
}

// NewServer checks cfg and fills its defaults; Start opens the sockets.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Hub == nil {
		return nil, errors.New("ingest: Config.Hub is required")
	}
	if cfg.Auth == nil {
		return nil, errors.New("ingest: Config.Auth is required")
	}
	if cfg.RTSPAddr == "" && cfg.RTMPAddr == "" {
		return nil, errors.New("ingest: neither RTSPAddr nor RTMPAddr is set")
	}
	if (cfg.UDPRTPAddr == "") != (cfg.UDPRTCPAddr == "") {
		return nil, errors.New("ingest: UDPRTPAddr and UDPRTCPAddr go together")
	}
	if cfg.Events == nil {
		cfg.Events = nopEvents{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	paths, err := newVideoPaths(cfg.Registerer, "rtsp")
	if err != nil {
		return nil, err
	}
	rtspBreaks, err := newBreaks(cfg.Registerer, "rtsp")
	if err != nil {
		return nil, err
	}
	rtmpBreaks, err := newBreaks(cfg.Registerer, "rtmp")
	if err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, rtmpConns: map[net.Conn]struct{}{}, paths: paths,
		rtspBreaks: rtspBreaks.Inc, rtmpBreaks: rtmpBreaks.Inc}, nil
}

// Start opens the listeners and starts serving.
func (s *Server) Start() error {
	if s.cfg.RTSPAddr != "" {
		s.rtsp = &gortsplib.Server{
			RTSPAddress:    s.cfg.RTSPAddr,
			UDPRTPAddress:  s.cfg.UDPRTPAddr,
			UDPRTCPAddress: s.cfg.UDPRTCPAddr,
			ReadTimeout:    s.cfg.ReadTimeout,
			WriteTimeout:   s.cfg.ReadTimeout,
			IdleTimeout:    3 * s.cfg.ReadTimeout,
			Handler:        &rtspHandler{s: s},
			Listen: func(network, address string) (net.Listener, error) {
				ln, err := net.Listen(network, address)
				if err != nil {
					return nil, err
				}
				s.rtspLn = s.listener(ln, "rtsp")
				return s.rtspLn, nil
			},
		}
		if err := s.rtsp.Start(); err != nil {
			return err
		}
		s.cfg.Log.Info("rtsp ingest listening", "addr", s.RTSPAddr(), "udp", s.cfg.UDPRTPAddr != "")
	}
	if s.cfg.RTMPAddr != "" {
		ln, err := net.Listen("tcp", s.cfg.RTMPAddr)
		if err != nil {
			if s.rtsp != nil {
				s.rtsp.Close()
			}
			return err
		}
		s.rtmpLn = s.listener(ln, "rtmp")
		s.wg.Add(1)
		go s.acceptRTMP()
		s.cfg.Log.Info("rtmp ingest listening", "addr", s.RTMPAddr())
	}
	return nil
}

// listener bounds the connections of ln (netlimit: those over the limits
// are closed at once) and batches them; RTSP ones are split so that their
// video can be tapped.
func (s *Server) listener(ln net.Listener, name string) *fastpath.Listener {
	lim := netlimit.Limits{Max: s.cfg.MaxConns, PerSource: s.cfg.MaxConnsPerSource,
		OnRefuse: func(remote net.Addr) {
			s.cfg.Log.Warn("connection limit reached, refusing connection", "listener", name,
				"limit", s.cfg.MaxConns, "per_source", s.cfg.MaxConnsPerSource, "remote", remote.String())
		}}
	return fastpath.NewListener(netlimit.Listen(ln, lim),
		fastpath.ListenConfig{FirstRead: s.cfg.ReadTimeout, Batch: s.cfg.ReadBatch, SplitRTSP: name == "rtsp"})
}

// RTSPAddr returns the bound RTSP address, or "" when RTSP is off.
func (s *Server) RTSPAddr() string {
	if s.rtspLn == nil {
		return ""
	}
	return s.rtspLn.Addr().String()
}

// RTMPAddr returns the bound RTMP address, or "" when RTMP is off.
func (s *Server) RTMPAddr() string {
	if s.rtmpLn == nil {
		return ""
	}
	return s.rtmpLn.Addr().String()
}

// StopAccepting closes the listening sockets (drain): running sessions go
// on until Close or until the hub closes their streams.
func (s *Server) StopAccepting() {
	if s.rtspLn != nil {
		s.rtspLn.Stop()
	}
	if s.rtmpLn != nil {
		s.rtmpLn.Stop()
	}
	s.cfg.Log.Info("ingest stopped accepting new connections")
}

// Close stops listening, drops every session and waits for them to end.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for c := range s.rtmpConns {
		c.Close()
	}
	s.mu.Unlock()
	if s.rtmpLn != nil {
		_ = s.rtmpLn.Close()
	}
	if s.rtsp != nil {
		s.rtsp.Close()
	}
	s.wg.Wait()
}

// authorize runs the Authorizer with a bounded time.
func (s *Server) authorize(cameraID, secret string) error {
	ctx, cancel := context.WithTimeout(context.Background(), authTimeout)
	defer cancel()
	return s.cfg.Auth.AuthorizePublish(ctx, cameraID, secret)
}
