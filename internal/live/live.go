// Package live serves the live view of the cameras this camera server holds:
// low-latency HLS (fMP4 parts, one shared muxer per camera, created on the
// first request and closed when idle) and WebRTC through WHEP (one
// PeerConnection per viewer, all of a camera's viewers fed from one RTP
// packetisation, rtpFeed). Camera-server routes are authenticated by the
// signed media token alone, so they need no database; the API route hands
// those tokens out after asking package authz.
package live

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/usage"
	"github.com/camcloud/camcloud/internal/zone"
)

// Defaults of Deps fields left zero.
const (
	DefaultIdleTimeout = 30 * time.Second
	DefaultTokenTTL    = 10 * time.Minute
	DefaultMaxSessions = 500
)

// ErrOffline is what a Locate function returns when the camera is not
// published on any camera server; the API answers 409 "offline". It is
// zone.ErrOffline, what zone.Locator (the Locate of a deployment) returns.
var ErrOffline = zone.ErrOffline

// Deps is what the live service needs.
type Deps struct {
	// Hub holds the streams published on this camera server.
	Hub *hub.Hub
	// Meter counts the live egress of each camera (WebRTC RTP payload
	// bytes, live HLS response bytes) for Zone, this camera server's
	// zone; nil: not counted.
	Meter *usage.Meter
	Zone  string
	// Signer makes (API side) and checks (camera-server side) media tokens.
	Signer *auth.Signer
	// Log receives the service's messages; nil discards them.
	Log *slog.Logger
	// IdleTimeout closes an HLS muxer nobody requested anything from for
	// this long (default 30 s).
	IdleTimeout time.Duration
	// Registerer receives the service's metrics; nil: not registered.
	Registerer prometheus.Registerer
	// ICEPortMin and ICEPortMax bound the UDP ports of WebRTC sessions
	// (both zero: any ephemeral port).
	ICEPortMin, ICEPortMax uint16
	// ICEUDP, when set, is the one UDP address ("host:port") every WebRTC
	// session's media goes through (pion's UDP mux) instead of a port per
	// session: one port to open in a firewall. If it cannot be opened, the
	// error is logged and sessions get a port each.
	ICEUDP string
	// NAT1To1IPs are public addresses announced instead of the host's own
	// (a server behind a 1:1 NAT).
	NAT1To1IPs []string
	// Locate tells the base URL ("http://host:port") of the camera server
	// holding cam, "" when it is this very process, or ErrOffline. Needed by
	// RegisterAPI only.
	Locate func(ctx context.Context, cam store.Camera) (baseURL string, err error)
	// TokenTTL is how long the media URLs handed out by the API stay valid
	// (default 10 min). HLS players need a fresh URL after that; a WebRTC
	// session is checked only when it starts.
	TokenTTL time.Duration
	// MaxSessions bounds the concurrent WebRTC sessions of this server
	// (default 500); more are refused with 503.
	MaxSessions int
	// MaxSessionsPerToken and MaxSessionsPerUser bound the concurrent
	// WebRTC sessions of one media token and of one user (the token's
	// subject) on this server (defaults DefaultMaxSessionsPerToken and
	// DefaultMaxSessionsPerUser); more are refused with 429.
	MaxSessionsPerToken, MaxSessionsPerUser int
	// ConnectTimeout ends a WebRTC session whose connection is not up this
	// long after its answer (default DefaultConnectTimeout).
	ConnectTimeout time.Duration
	// MaxHLSPerToken bounds the concurrent HLS requests of one media token
	// (default DefaultMaxHLSPerToken); more are refused with 429.
	MaxHLSPerToken int
	// ViewingIdle is how long a viewer's live view of a camera lasts after
	// its last hand-out of URLs before its media.live audit entry is
	// written (default ViewingIdle).
	ViewingIdle time.Duration
	// Now is the clock (tests); nil: time.Now.
	Now func() time.Time
	// Shares tells whether the share link a media token was minted for
	// still holds (auth.MediaClaims.Share); nil: such tokens are refused.
	Shares ShareCheck
}

// Service is the live-view service of one process.
type Service struct {
	d   Deps
	log *slog.Logger
	m   *metrics
	rtc *rtcAPI

	rtcSlots rtcSlots
	hlsSlots hlsSlots
	tokens   tokenCache

	shares    *shareGate
	stopShare chan struct{}

	mu       sync.Mutex
	closed   bool
	muxers   map[string]*hlsMuxer
	sessions map[string]*whepSession
	viewings []*viewings         // of the routers RegisterAPI served
	feeds    map[string]*rtpFeed // camera -> the packets of its WebRTC viewers
}

// New builds the service. Hub and Signer are required (New panics without
// them: a wiring mistake). An invalid ICE port range or a metrics
// registration failure is logged and left out rather than failing.
func New(d Deps) *Service {
	if d.Hub == nil || d.Signer == nil {
		panic("live.New: Hub and Signer are required")
	}
	if d.IdleTimeout <= 0 {
		d.IdleTimeout = DefaultIdleTimeout
	}
	if d.TokenTTL <= 0 {
		d.TokenTTL = DefaultTokenTTL
	}
	if d.ViewingIdle <= 0 {
		d.ViewingIdle = ViewingIdle
	}
	if d.MaxSessions <= 0 {
		d.MaxSessions = DefaultMaxSessions
	}
	d.MaxSessionsPerToken = orDefault(d.MaxSessionsPerToken, DefaultMaxSessionsPerToken)
	d.MaxSessionsPerUser = orDefault(d.MaxSessionsPerUser, DefaultMaxSessionsPerUser)
	d.MaxHLSPerToken = orDefault(d.MaxHLSPerToken, DefaultMaxHLSPerToken)
	d.ConnectTimeout = orDefault(d.ConnectTimeout, DefaultConnectTimeout)
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	s := &Service{d: d, log: d.Log.With("component", "live"),
		muxers: map[string]*hlsMuxer{}, sessions: map[string]*whepSession{}, feeds: map[string]*rtpFeed{},
		rtcSlots: rtcSlots{byToken: counts{}, byUser: counts{}}, hlsSlots: hlsSlots{byToken: counts{}}}
	s.shares = &shareGate{check: d.Shares, now: d.Now, seen: map[string]shareSeen{}}
	s.stopShare = make(chan struct{})
	if d.Shares != nil {
		go s.sweepShares(s.stopShare)
	}
	s.rtc = newRTCAPI(d, s.log)
	s.m = newMetrics(s)
	if d.Registerer != nil {
		if err := s.m.register(d.Registerer); err != nil {
			s.log.Error("live metrics not registered", "err", err)
		}
	}
	return s
}

// orDefault is v, or def when v is not positive.
func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Close ends every muxer and WebRTC session; requests after it fail.
func (s *Service) Close() {
	s.mu.Lock()
	if !s.closed {
		close(s.stopShare)
	}
	s.closed = true
	ms := make([]*hlsMuxer, 0, len(s.muxers))
	for _, m := range s.muxers {
		ms = append(ms, m)
	}
	ss := make([]*whepSession, 0, len(s.sessions))
	for _, w := range s.sessions {
		ss = append(ss, w)
	}
	vs := s.viewings
	s.mu.Unlock()
	for _, v := range vs {
		v.close() // the open viewings are audited
	}
	for _, m := range ms {
		m.close("service closed")
	}
	for _, w := range ss {
		w.close("service closed")
	}
	s.rtc.close()
}

// RegisterMedia adds the camera-server routes (token-authenticated):
//
//	GET    /live/v1/{camera}/index.m3u8?token=   LL-HLS multivariant playlist
//	GET    /live/v1/{camera}/{file}?token=       media playlists, init, segments, parts
//	POST   /live/v1/{camera}/whep?token=         WHEP offer -> 201 answer
//	DELETE /live/v1/{camera}/whep/{session}      end a WHEP session
//	PATCH  /live/v1/{camera}/whep/{session}      405 (no trickle ICE)
//	OPTIONS /live/v1/...                          CORS preflight
//
// The routes are public on mux (an http.ServeMux or an httpapi.Router):
// each checks the media token itself.
func (s *Service) RegisterMedia(mux interface {
	HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request))
}) {
	mux.HandleFunc("GET /live/v1/{camera}/{file}", s.serveHLS)
	mux.HandleFunc("POST /live/v1/{camera}/whep", s.serveWHEP)
	mux.HandleFunc("DELETE /live/v1/{camera}/whep/{session}", s.deleteWHEP)
	mux.HandleFunc("PATCH /live/v1/{camera}/whep/{session}", s.patchWHEP)
	mux.HandleFunc("OPTIONS /live/v1/{path...}", preflight)
}
