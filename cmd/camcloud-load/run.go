package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/camcloud/camcloud/internal/sample"
	"github.com/camcloud/camcloud/internal/sim"
)

// Prometheus series the benchmark reads.
const (
	mRecorded  = "camcloud_record_frames_recorded_total"
	mOverflows = "camcloud_record_overflow_drops_total"
	mSpoolDrop = "camcloud_record_spool_dropped_segments_total"
)

// result is the measurement of one camera count.
type result struct {
	cameras   int
	serverCPU float64 // % of one core, whole server
	simCPU    float64 // % of one core, this process
	rss0      int64   // server VmRSS with no camera
	rss       int64   // mean server VmRSS over the window
	rssMax    int64   // highest VmRSS sampled in the window
	sent      int64   // access units the simulated cameras sent
	recorded  int64   // access units the server recorded
	lost      int64
	overflows int64 // hub reader overflows plus spool drops
}

// runOne measures one camera count n against a fresh server.
func runOne(ctx context.Context, o *options, log *slog.Logger, smp *sample.Sample, parent string, n int) (result, error) {
	res := result{cameras: n}
	dir := filepath.Join(parent, "n"+strconv.Itoa(n))
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return res, err
	}
	srv, err := startServer(ctx, o.pin, o.bin, dir, o.serveArgs)
	if err != nil {
		return res, err
	}
	defer srv.stop()
	orgID, err := srv.setup(ctx)
	if err != nil {
		return res, err
	}
	if res.rss0, err = baselineRSS(ctx, srv); err != nil {
		return res, err
	}

	simCtx, stopSim := context.WithCancel(ctx)
	defer stopSim()
	runner, simDone, err := startCameras(ctx, simCtx, o, log, smp, srv, orgID, n, 2*time.Second)
	if err != nil {
		return res, err
	}
	log.Info("cameras up, warming up", "cameras", n, "warmup", o.warmup)
	if err := sleep(ctx, o.warmup); err != nil {
		return res, err
	}

	cpu0, err := procCPU(srv.pid())
	if err != nil {
		return res, err
	}
	self0, t0 := selfCPU(), time.Now()
	log.Info("measuring", "cameras", n, "window", o.window)
	// RSS follows the garbage collector's saw-tooth: average one sample a second.
	var rssSum, rssN int64
	for end := t0.Add(o.window); time.Now().Before(end); {
		if err := sleep(ctx, min(time.Second, time.Until(end))); err != nil {
			return res, err
		}
		rss, err := procRSS(srv.pid())
		if err != nil {
			return res, err
		}
		rssSum, rssN = rssSum+rss, rssN+1
		res.rssMax = max(res.rssMax, rss)
	}
	cpu1, err := procCPU(srv.pid())
	if err != nil {
		return res, err
	}
	self1, el := selfCPU(), time.Since(t0)
	res.rss = rssSum / max(rssN, 1)
	res.serverCPU = 100 * float64(cpu1-cpu0) / float64(el)
	res.simCPU = 100 * float64(self1-self0) / float64(el)

	if o.profileDir != "" {
		if err := profile(ctx, srv, o.profileDir, n); err != nil {
			log.Warn("profiling failed", "err", err)
		}
	}

	// Stop the cameras; the server then closes each stream and writes its
	// last fragment, so that what it recorded can be counted against what
	// was sent.
	stopSim()
	if err := <-simDone; err != nil && !errors.Is(err, context.Canceled) {
		return res, fmt.Errorf("sim: %w", err)
	}
	for _, st := range runner.Stats() {
		res.sent += st.Units
		if st.Sessions != 1 {
			log.Warn("a camera reconnected during the run", "camera", st.CameraID, "sessions", st.Sessions)
		}
	}
	m, err := settledMetrics(ctx, srv)
	if err != nil {
		return res, err
	}
	res.recorded = int64(m[mRecorded])
	res.overflows = int64(m[mOverflows] + m[mSpoolDrop])
	res.lost = res.sent - res.recorded
	log.Info("done", "cameras", n, "server_cpu_pct", res.serverCPU, "rss_mib", mib(res.rss),
		"sent", res.sent, "recorded", res.recorded)
	return res, nil
}

// baselineRSS is the idle server's resident memory once the garbage of
// its start (the argon2id hashes of the admin's creation and login) is
// returned to the system: two garbage collections, forced through pprof
// (heap?gc=1), let the runtime's scavenger release it.
func baselineRSS(ctx context.Context, srv *server) (int64, error) {
	for range 2 {
		if err := srv.saveProfile(ctx, "heap?gc=1", os.DevNull); err != nil {
			return 0, err
		}
		if err := sleep(ctx, 2*time.Second); err != nil {
			return 0, err
		}
	}
	if err := sleep(ctx, 2*time.Second); err != nil {
		return 0, err
	}
	return procRSS(srv.pid())
}

// waitConnected waits until every simulated camera is sending.
// startCameras starts n simulated cameras of organisation orgID pushing
// to srv until runCtx ends (each lingering grace at the end), and waits
// until every one is connected. done gives the runner's end.
func startCameras(ctx, runCtx context.Context, o *options, log *slog.Logger, smp *sample.Sample, srv *server, orgID string, n int, grace time.Duration) (r *sim.Runner, done <-chan error, err error) {
	runner, err := sim.NewRunner(sim.RunConfig{API: srv.base, Token: srv.token, OrgID: orgID, Cameras: n,
		Protocol: o.protocol, Ingest: []string{srv.ingest(o.protocol)}, Sample: smp, StopGrace: grace, Log: log.With("component", "sim")})
	if err != nil {
		return nil, nil, err
	}
	simDone := make(chan error, 1)
	go func() { simDone <- runner.Run(runCtx) }()
	log.Info("starting cameras", "cameras", n)
	return runner, simDone, waitConnected(ctx, runner, n, simDone)
}

func waitConnected(ctx context.Context, r *sim.Runner, n int, simDone <-chan error) error {
	deadline := time.Now().Add(time.Duration(n)*200*time.Millisecond + time.Minute)
	for {
		up := 0
		st := r.Stats()
		for _, s := range st {
			if s.Connected {
				up++
			}
		}
		if up == n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d cameras connected", up, n)
		}
		select {
		case err := <-simDone:
			return fmt.Errorf("sim ended early: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// settledMetrics reads the recorder's counters once they stopped changing
// for 3 s after the cameras left.
func settledMetrics(ctx context.Context, srv *server) (map[string]float64, error) {
	var last map[string]float64
	stable := 0
	for range 120 {
		m, err := srv.metrics(ctx, mRecorded, mOverflows, mSpoolDrop)
		if err != nil {
			return nil, err
		}
		if last != nil && m[mRecorded] == last[mRecorded] {
			stable++
			if stable >= 3 {
				return m, nil
			}
		} else {
			stable = 0
		}
		last = m
		if err := sleep(ctx, time.Second); err != nil {
			return nil, err
		}
	}
	return last, nil
}

// profile saves a 30 s CPU profile and a heap profile of the server.
func profile(ctx context.Context, srv *server, dir string, n int) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	if err := srv.saveProfile(ctx, "profile?seconds=30", filepath.Join(dir, fmt.Sprintf("cpu-%d.pprof", n))); err != nil {
		return err
	}
	return srv.saveProfile(ctx, "heap", filepath.Join(dir, fmt.Sprintf("heap-%d.pprof", n)))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
