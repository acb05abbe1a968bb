package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/liberrors"

	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/ingest/fastpath"
	"github.com/camcloud/camcloud/internal/netpolicy"
)

// Reconnect backoff bounds of the Puller.
const (
	pullMinBackoff = time.Second
	pullMaxBackoff = 30 * time.Second
	pullTimeout    = 10 * time.Second
)

// Puller pulls cameras that serve RTSP (DESCRIBE/SETUP/PLAY) and publishes
// them to the hub, reconnecting with exponential backoff until stopped.
type Puller struct {
	hub *hub.Hub
	ev  Events
	log *slog.Logger
	// ReadBatch batches the reads of pulled TCP streams (see fastpath);
	// zero reads as data arrives. Set it before the first Start.
	ReadBatch time.Duration
	// MediaTimeout drops and redials a pull that sends no media for this
	// long (default DefaultMediaTimeout). Set it before the first Start.
	MediaTimeout time.Duration
	// Dest decides which addresses pulls may connect or send to, checked
	// on every resolved address dialled (RTSP over TCP, TLS, redirects) and
	// every UDP destination a camera's answer names. Nil: netpolicy's
	// default (public addresses only). Set it before the first Start.
	Dest *netpolicy.Policy

	bufs   *fastpath.Buffers
	paths  *videoPaths // see RegisterMetrics
	breaks func()      // counts timestamp breaks; see RegisterMetrics

	mu   sync.Mutex
	jobs map[string]*pullJob
}

// pullJob is the reconnect loop of one camera.
type pullJob struct {
	url    string
	cancel context.CancelFunc
	done   chan struct{}
}

// NewPuller returns a Puller feeding h; ev and log may be nil.
func NewPuller(h *hub.Hub, ev Events, log *slog.Logger) *Puller {
	if ev == nil {
		ev = nopEvents{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Puller{hub: h, ev: ev, log: log, jobs: map[string]*pullJob{}, bufs: fastpath.NewBuffers()}
}

// Start pulls url for cameraID until Stop. Starting a camera already pulled
// from the same URL does nothing; from another URL, it restarts.
func (p *Puller) Start(cameraID, url string) {
	p.mu.Lock()
	old := p.jobs[cameraID]
	if old != nil && old.url == url {
		p.mu.Unlock()
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	j := &pullJob{url: url, cancel: cancel, done: make(chan struct{})}
	p.jobs[cameraID] = j
	p.mu.Unlock()
	if old != nil {
		old.cancel()
		<-old.done
	}
	go p.run(ctx, j, cameraID)
}

// Stop stops pulling cameraID and waits until its stream is closed.
func (p *Puller) Stop(cameraID string) {
	p.mu.Lock()
	j := p.jobs[cameraID]
	delete(p.jobs, cameraID)
	p.mu.Unlock()
	if j != nil {
		j.cancel()
		<-j.done
	}
}

// StopAll stops every pull and waits for them.
func (p *Puller) StopAll() {
	p.mu.Lock()
	jobs := p.jobs
	p.jobs = map[string]*pullJob{}
	p.mu.Unlock()
	for _, j := range jobs {
		j.cancel()
	}
	for _, j := range jobs {
		<-j.done
	}
}

// Active returns the cameras being pulled (connected or retrying), sorted.
func (p *Puller) Active() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.jobs))
	for id := range p.jobs {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// run is the reconnect loop.
func (p *Puller) run(ctx context.Context, j *pullJob, cameraID string) {
	defer close(j.done)
	safeURL := RedactURL(j.url)
	backoff := pullMinBackoff
	useUDP := false
	for {
		published, err := p.pullOnce(ctx, cameraID, j.url, useUDP)
		if ctx.Err() != nil {
			return
		}
		if published {
			backoff = pullMinBackoff
		}
		var bad liberrors.ErrClientBadStatusCode
		if errors.As(err, &bad) && bad.Code == base.StatusUnsupportedTransport {
			useUDP = !useUDP
		}
		if f, ok := p.ev.(PullFailures); ok {
			f.PullFailed(cameraID, PullFailureReason(err))
		}
		wait := jitter(backoff)
		p.log.Warn("pull failed, retrying", "camera", cameraID, "url", safeURL, "error", redactErr(err),
			"retry_in", wait.Round(time.Millisecond).String())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, pullMaxBackoff)
	}
}

// jitter spreads d over [0.75 d, 1.25 d), within the backoff bounds.
func jitter(d time.Duration) time.Duration {
	j := time.Duration(float64(d) * (0.75 + rand.Float64()/2))
	return min(max(j, pullMinBackoff), pullMaxBackoff)
}

// pullOnce runs one RTSP client session until it fails or ctx ends.
func (p *Puller) pullOnce(ctx context.Context, cameraID, rawURL string, useUDP bool) (published bool, err error) {
	u, err := base.ParseURL(rawURL)
	if err != nil {
		return false, fmt.Errorf("invalid URL: %w", err)
	}
	proto := gortsplib.ProtocolTCP
	if useUDP {
		proto = gortsplib.ProtocolUDP
	}
	var conn net.Conn // the last one dialled; read after SETUP, which dialled it
	c := &gortsplib.Client{Scheme: u.Scheme, Host: u.Host, Protocol: &proto,
		ReadTimeout: pullTimeout, WriteTimeout: pullTimeout,
		DialContext: func(ctx context.Context, network, address string) (net.Conn, error) {
			nc, err := p.dial(ctx, network, address)
			conn = nc
			return nc, err
		},
		ListenPacket: p.dest().ListenPacket,
		// gortsplib prints these with the standard logger by default; they
		// belong in the structured log with the camera.
		OnPacketsLost: func(lost uint64) { p.log.Debug("rtp packets lost", "camera", cameraID, "lost", lost) },
		OnDecodeError: func(err error) { p.log.Debug("rtp decode error", "camera", cameraID, "error", redactErr(err)) },
		OnTransportSwitch: func(err error) {
			p.log.Info("pull switched transport", "camera", cameraID, "reason", redactErr(err))
		},
	}
	if err := c.Start(); err != nil {
		return false, err
	}
	// Every close of c goes through the gate, so that none runs while the
	// video tap handles a frame (tapGate).
	gate := &tapGate{}
	closeC := func() { gate.close(c.Close) }
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-ctx.Done():
			closeC()
		case <-stop:
		}
	}()
	defer closeC()

	desc, _, err := c.Describe(u)
	if err != nil {
		return false, err
	}
	tracks, err := selectRTSPTracks(desc)
	if err != nil {
		return false, err
	}
	var medias []*description.Media
	for _, t := range tracks {
		if len(medias) == 0 || medias[len(medias)-1] != t.media {
			medias = append(medias, t.media)
		}
	}
	videoChannel := -1
	for _, m := range medias {
		res, err := c.Setup(desc.BaseURL, m, 0, 0)
		if err != nil {
			return false, err
		}
		if m == tracks[0].media && !useUDP {
			videoChannel = responseChannel(res)
		}
	}
	specs := rtspSpecs(tracks)
	pub := newPublication(pubConfig{
		hub: p.hub, events: p.ev, log: p.log, cameraID: cameraID,
		info: StreamInfo{Codec: codecsName(specs), Protocol: "rtsp-pull", Remote: u.Host,
			Unrecorded: strings.Join(tracks[0].skipped, ", ")},
		dropSession: closeC, discontinuity: p.breaks, mediaTimeout: p.MediaTimeout,
	}, specs)
	defer pub.close()
	if err := attachRTSP(c, pub, tracks); err != nil {
		return false, err
	}
	pub.readLive(conn)
	startVideoTap(conn, videoChannel, c, gate, tracks[0], pub, p.paths, p.log, cameraID)
	if _, err := c.Play(nil); err != nil {
		return false, err
	}
	pub.start()
	err = c.Wait()
	pub.mu.Lock()
	published = pub.stream != nil
	pub.mu.Unlock()
	return published, err
}

// dest is the destination policy in force.
func (p *Puller) dest() *netpolicy.Policy {
	if p.Dest == nil {
		return netpolicy.New(nil)
	}
	return p.Dest
}

// dial connects to a pulled camera, if the destination policy allows the
// address the name resolves to; its media is then read in batches.
func (p *Puller) dial(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := p.dest().Dialer().DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return fastpath.NewRTSPConn(c, p.ReadBatch, p.bufs), nil
}
