package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/camcloud/camcloud/internal/sample"
	"github.com/camcloud/camcloud/internal/sim"
)

// Viewer modes of --viewers.
const (
	viewWebRTC = "webrtc"
	viewLLHLS  = "llhls"
)

// viewerOptions are the settings of a viewer run (--viewers).
type viewerOptions struct {
	mode      string
	perCamera int
	stall     int // WebRTC viewers that stop reading once connected
	slow      int // HLS viewers that read at 2 KB/s
	stagger   time.Duration
	// External server (--target external): its pid, and URL templates in
	// which {i} is the camera number (1-based).
	external   bool
	pid        int
	publishURL string
	whepURL    string
	hlsURL     string
	label      string
	// VOD runs (--viewers vod).
	store      string // storeLocal or storeS3
	gatewayBin string
	vodRange   time.Duration
	maxBuffer  time.Duration
}

// viewerResult is the measurement of one viewer run.
type viewerResult struct {
	label, mode       string
	cameras, viewers  int
	cpuCams, cpuViews float64 // % of a core: cameras only, cameras and viewers
	rssCams, rssViews int64
	clientCPU         float64
	sum               viewerSummary
}

// runViewers measures the cost of vo.mode viewers of n cameras.
func runViewers(ctx context.Context, o *options, vo *viewerOptions, log *slog.Logger, smp *sample.Sample, parent string, n int) (viewerResult, error) {
	res := viewerResult{label: vo.label, mode: vo.mode, cameras: n, viewers: n * vo.perCamera}
	var pid int
	var urls []string
	pubCtx, stopPub := context.WithCancel(ctx)
	defer stopPub()
	pubDone := make(chan error, n)
	var waitUp func() error
	if vo.external {
		pid = vo.pid
		stats := make([]*sim.Stats, n)
		for i := range n {
			stats[i] = &sim.Stats{}
			go func() {
				u := strings.ReplaceAll(vo.publishURL, "{i}", strconv.Itoa(i+1))
				for pubCtx.Err() == nil {
					if err := sim.PublishOnce(pubCtx, u, smp, stats[i]); err != nil && pubCtx.Err() == nil {
						log.Warn("publisher ended", "url", u, "err", err)
						_ = sleep(pubCtx, time.Second)
					}
				}
				pubDone <- nil
			}()
			tmpl := vo.whepURL
			if vo.mode == viewLLHLS {
				tmpl = vo.hlsURL
			}
			urls = append(urls, strings.ReplaceAll(tmpl, "{i}", strconv.Itoa(i+1)))
		}
		waitUp = func() error {
			deadline := time.Now().Add(time.Minute)
			for time.Now().Before(deadline) {
				up := 0
				for _, s := range stats {
					if s.Connected.Load() {
						up++
					}
				}
				if up == n {
					return nil
				}
				if err := sleep(ctx, 200*time.Millisecond); err != nil {
					return err
				}
			}
			return errors.New("not every publisher connected")
		}
	} else {
		dir := filepath.Join(parent, fmt.Sprintf("v%s-%d", vo.mode, n))
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return res, err
		}
		args := append([]string{"--live-max-sessions", "100000", "--live-max-sessions-per-user", "100000",
			"--live-max-sessions-per-token", "100000", "--live-max-hls-per-token", "100000",
			"--http-max-conns", "0", "--http-max-conns-per-ip", "0"}, o.serveArgs...)
		srv, err := startServer(ctx, o.pin, o.bin, dir, args)
		if err != nil {
			return res, err
		}
		defer srv.stop()
		pid = srv.pid()
		orgID, err := srv.setup(ctx)
		if err != nil {
			return res, err
		}
		runner, err := sim.NewRunner(sim.RunConfig{API: srv.base, Token: srv.token, OrgID: orgID, Cameras: n,
			Protocol: o.protocol, Ingest: []string{srv.ingest(o.protocol)}, Sample: smp, Log: log.With("component", "sim")})
		if err != nil {
			return res, err
		}
		simDone := make(chan error, 1)
		go func() { simDone <- runner.Run(pubCtx); pubDone <- nil }()
		waitUp = func() error {
			if err := waitConnected(ctx, runner, n, simDone); err != nil {
				return err
			}
			for _, st := range runner.Stats() {
				var live struct {
					HLSURL  string `json:"hls_url"`
					WHEPURL string `json:"whep_url"`
				}
				if err := srv.call(ctx, http.MethodPost, "/api/v1/cameras/"+st.CameraID+"/live", nil, &live); err != nil {
					return err
				}
				u := live.WHEPURL
				if vo.mode == viewLLHLS {
					u = live.HLSURL
				}
				urls = append(urls, u)
			}
			return nil
		}
	}
	log.Info("starting cameras", "cameras", n)
	if err := waitUp(); err != nil {
		return res, err
	}
	if err := sleep(ctx, o.warmup); err != nil {
		return res, err
	}
	// The cameras alone.
	baseWin := max(o.window/2, 10*time.Second)
	cpu, rss, _, err := measure(ctx, pid, baseWin)
	if err != nil {
		return res, err
	}
	res.cpuCams, res.rssCams = cpu, rss

	// The viewers, started a little apart as an audience arrives.
	var wc *whepClient
	if vo.mode == viewWebRTC {
		if wc, err = newWHEPClient(); err != nil {
			return res, err
		}
	}
	hc := newHLSClient()
	vctx, stopViewers := context.WithCancel(ctx)
	defer stopViewers()
	stats := make([]*viewerStats, res.viewers)
	var wg sync.WaitGroup
	log.Info("starting viewers", "viewers", res.viewers, "mode", vo.mode)
	for i := range stats {
		stats[i] = &viewerStats{}
		u := urls[i%n]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for vctx.Err() == nil {
				var err error
				if vo.mode == viewWebRTC {
					err = wc.watchWHEP(vctx, u, stats[i], i < vo.stall)
				} else {
					err = hc.watchHLS(vctx, u, stats[i], i < vo.slow)
				}
				if err == nil || vctx.Err() != nil {
					return
				}
				stats[i].fail(err)
				_ = sleep(vctx, time.Second)
			}
		}()
		if err := sleep(ctx, vo.stagger); err != nil {
			return res, err
		}
	}
	// Until every viewer plays (or a minute passed), then a short warm-up.
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		if s := summarize(stats); s.ok >= res.viewers-vo.stall {
			break
		}
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			return res, err
		}
	}
	if err := sleep(ctx, 5*time.Second); err != nil {
		return res, err
	}
	cpu, rss, self, err := measure(ctx, pid, o.window)
	if err != nil {
		return res, err
	}
	res.cpuViews, res.rssViews, res.clientCPU = cpu, rss, self
	if o.profileDir != "" && !vo.external {
		if err := saveServerProfile(ctx, pid, o, parent, vo.mode, n); err != nil {
			log.Warn("profiling failed", "err", err)
		}
	}
	stopViewers()
	wg.Wait()
	res.sum = summarize(stats[max(vo.stall, vo.slow):])
	stopPub()
	return res, nil
}

// saveServerProfile saves a heap profile and a 20 s CPU profile of the camcloud server pid,
// whose pprof address it reads from the server's command line.
func saveServerProfile(ctx context.Context, pid int, o *options, parent, mode string, n int) error {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return err
	}
	args := strings.Split(string(b), "\x00")
	for i, a := range args {
		if a == "--debug-addr" && i+1 < len(args) {
			srv := &server{debug: "http://" + args[i+1]}
			if err := os.MkdirAll(o.profileDir, 0o750); err != nil {
				return err
			}
			if err := srv.saveProfile(ctx, "heap", filepath.Join(o.profileDir, fmt.Sprintf("heap-%s-%d.pprof", mode, n))); err != nil {
				return err
			}
			return srv.saveProfile(ctx, "profile?seconds=20", filepath.Join(o.profileDir, fmt.Sprintf("cpu-%s-%d.pprof", mode, n)))
		}
	}
	return errors.New("no --debug-addr")
}

// measure returns a process's CPU (% of a core) and mean resident memory
// over window, and this process's own CPU.
func measure(ctx context.Context, pid int, window time.Duration) (cpu float64, rss int64, self float64, err error) {
	c0, err := procCPU(pid)
	if err != nil {
		return 0, 0, 0, err
	}
	s0, t0 := selfCPU(), time.Now()
	var sum, k int64
	for end := t0.Add(window); time.Now().Before(end); {
		if err := sleep(ctx, min(time.Second, time.Until(end))); err != nil {
			return 0, 0, 0, err
		}
		r, err := procRSS(pid)
		if err != nil {
			return 0, 0, 0, err
		}
		sum, k = sum+r, k+1
	}
	c1, err := procCPU(pid)
	if err != nil {
		return 0, 0, 0, err
	}
	el := time.Since(t0)
	return 100 * float64(c1-c0) / float64(el), sum / max(k, 1), 100 * float64(selfCPU()-s0) / float64(el), nil
}

// printViewerTable writes viewer results as a Markdown table.
func printViewerTable(w io.Writer, rs []viewerResult, header bool) {
	if header {
		fmt.Fprintln(w, "| server | viewers of | cameras | viewers | CPU % cameras only | CPU % with viewers | % of a core per viewer | RSS MiB cameras only | with viewers | MiB per viewer | viewers playing | frames (WebRTC) or parts (HLS) received | expected | MB received | RTP packets lost | parts missed | first frame/byte p50 / p95 ms | viewer errors | load tool CPU % |")
		fmt.Fprintln(w, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	}
	for _, r := range rs {
		per := (r.cpuViews - r.cpuCams) / float64(max(r.viewers, 1))
		mper := mib(r.rssViews-r.rssCams) / float64(max(r.viewers, 1))
		s := r.sum
		exp := strconv.FormatInt(s.expected, 10)
		if r.mode == viewLLHLS {
			exp = "-"
		}
		fmt.Fprintf(w, "| %s | %s | %d | %d | %.1f | %.1f | %.3f | %.1f | %.1f | %.3f | %d | %d | %s | %.0f | %d | %d | %d / %d | %d | %.0f |\n",
			r.label, r.mode, r.cameras, r.viewers, r.cpuCams, r.cpuViews, per, mib(r.rssCams), mib(r.rssViews), mper,
			s.ok, s.frames, exp, float64(s.bytes)/1e6, s.lostPkts, s.missed, s.firstP50.Milliseconds(), s.firstP95.Milliseconds(), s.errs, r.clientCPU)
		if s.lastError != "" {
			fmt.Fprintf(os.Stderr, "camcloud-load: %s %s: last viewer error: %s\n", r.label, r.mode, s.lastError)
		}
	}
}
