package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"

	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/sample"
)

// maxPullCameras bounds ServePull's n.
const maxPullCameras = 100000

// PullServer serves simulated cameras over RTSP for a server to pull: camera
// i is a live stream of the looping sample at rtsp://addr/sim/<i>.
type PullServer struct {
	log     *slog.Logger
	srv     *gortsplib.Server
	streams []*gortsplib.ServerStream
	stats   []*Stats
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	once    sync.Once
}

// ServePull starts serving n cameras on addr ("127.0.0.1:0" picks a port).
func ServePull(addr string, n int, smp *sample.Sample, log *slog.Logger) (*PullServer, error) {
	if n < 1 || n > maxPullCameras {
		return nil, fmt.Errorf("sim: camera count %d out of range 1..%d", n, maxPullCameras)
	}
	if smp == nil {
		return nil, errors.New("sim: no sample")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &PullServer{log: log}
	p.srv = &gortsplib.Server{RTSPAddress: addr, Handler: &pullHandler{p: p}}
	if err := p.srv.Start(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	for i := 0; i < n; i++ {
		out, err := newRTPOut(smp.Tracks)
		if err != nil {
			p.Close()
			return nil, err
		}
		st := &gortsplib.ServerStream{Server: p.srv, Desc: out.desc}
		if err := st.Initialize(); err != nil {
			p.Close()
			return nil, err
		}
		stats := &Stats{}
		p.streams = append(p.streams, st)
		p.stats = append(p.stats, stats)
		p.wg.Add(1)
		go p.play(ctx, smp, out, st, stats)
	}
	log.Info("sim pull server listening", "addr", p.Addr(), "cameras", n)
	return p, nil
}

// play feeds one camera's stream until ctx ends.
func (p *PullServer) play(ctx context.Context, smp *sample.Sample, out *rtpOut, st *gortsplib.ServerStream, stats *Stats) {
	defer p.wg.Done()
	stats.Sessions.Add(1)
	stats.Connected.Store(true)
	defer stats.Connected.Store(false)
	_ = smp.Play(ctx, func(u *hub.Unit) error {
		m, pkts, err := out.packets(u)
		if err != nil {
			return err
		}
		for _, pkt := range pkts {
			if err := st.WritePacketRTPWithNTP(m, pkt, u.NTP); err != nil {
				return err
			}
		}
		stats.sent(u, smp.Tracks[u.Track-1].IsVideo())
		return nil
	})
}

// Addr returns the bound address.
func (p *PullServer) Addr() string { return p.srv.NetListener().Addr().String() }

// URL returns the RTSP URL of camera i.
func (p *PullServer) URL(i int) string { return "rtsp://" + p.Addr() + "/sim/" + strconv.Itoa(i) }

// Stats returns the counters of camera i (frames written to the stream,
// whether or not anyone reads it).
func (p *PullServer) Stats(i int) *Stats { return p.stats[i] }

// Close stops serving.
func (p *PullServer) Close() {
	p.once.Do(func() {
		if p.cancel != nil {
			p.cancel()
		}
		p.wg.Wait()
		for _, st := range p.streams {
			st.Close()
		}
		p.srv.Close()
	})
}

// stream returns the stream of a path "/sim/<i>", or nil.
func (p *PullServer) stream(path string) *gortsplib.ServerStream {
	rest, ok := strings.CutPrefix(strings.TrimSuffix(path, "/"), "/sim/")
	if !ok {
		return nil
	}
	i, err := strconv.Atoi(rest)
	if err != nil || i < 0 || i >= len(p.streams) {
		return nil
	}
	return p.streams[i]
}

// pullHandler serves DESCRIBE/SETUP/PLAY and refuses publishing.
type pullHandler struct{ p *PullServer }

// OnDescribe returns the camera's stream.
func (h *pullHandler) OnDescribe(ctx *gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	st := h.p.stream(ctx.Path)
	if st == nil {
		return &base.Response{StatusCode: base.StatusNotFound}, nil, errors.New("no such camera")
	}
	return &base.Response{StatusCode: base.StatusOK}, st, nil
}

// OnSetup attaches the reader to the camera's stream.
func (h *pullHandler) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	st := h.p.stream(ctx.Path)
	if st == nil {
		return &base.Response{StatusCode: base.StatusNotFound}, nil, errors.New("no such camera")
	}
	return &base.Response{StatusCode: base.StatusOK}, st, nil
}

// OnPlay starts sending.
func (h *pullHandler) OnPlay(_ *gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// OnAnnounce refuses publishers.
func (h *pullHandler) OnAnnounce(_ *gortsplib.ServerHandlerOnAnnounceCtx) (*base.Response, error) {
	return &base.Response{StatusCode: base.StatusMethodNotAllowed}, errors.New("publishing is not accepted")
}
