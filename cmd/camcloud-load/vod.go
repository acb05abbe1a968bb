package main

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/camcloud/camcloud/internal/sample"
)

// viewVOD is the --viewers mode of recorded playback.
const viewVOD = "vod"

// Stores a VOD run reads from (--store).
const (
	storeLocal = "local"
	storeS3    = "s3"
)

// vodSegmentDuration is the recorded object length of a VOD run, so that
// a short recording warm-up leaves many uploaded objects to play.
const vodSegmentDuration = "10s"

// vodResult is the measurement of one VOD run.
type vodResult struct {
	store             string
	cameras, viewers  int
	cpuCams, cpuViews float64 // server, % of a core
	rssCams, rssViews int64
	storeCPU          float64 // versitygw, % of a core, with viewers (s3)
	clientCPU         float64
	st                *vodStats
}

// gateway is a versitygw process serving an S3 API over a directory.
type gateway struct {
	cmd            *exec.Cmd
	endpoint       string
	access, secret string
	done           chan struct{}
	logf           *os.File
	pid            int
	bucket         string
}

// startGateway runs bin (versitygw) over dir on a free port and waits until
// it answers.
func startGateway(ctx context.Context, bin, dir string) (*gateway, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "s3"), 0o750); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "versitygw.log"))
	if err != nil {
		return nil, err
	}
	g := &gateway{endpoint: addr, access: "load" + randHex(4), secret: randHex(16), done: make(chan struct{}), logf: logf, bucket: "camcloud-load"}
	g.cmd = exec.Command(bin, "--access", g.access, "--secret", g.secret, "--port", addr, "--quiet", "posix", filepath.Join(dir, "s3"))
	g.cmd.Stdout, g.cmd.Stderr = logf, logf
	if err := g.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start versitygw: %w", err)
	}
	g.pid = g.cmd.Process.Pid
	go func() { _ = g.cmd.Wait(); close(g.done) }()
	c := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(20 * time.Second); ; {
		if res, err := c.Get("http://" + addr + "/"); err == nil {
			res.Body.Close()
			return g, nil
		}
		select {
		case <-g.done:
			return nil, fmt.Errorf("versitygw exited at start; see %s", logf.Name())
		case <-ctx.Done():
			g.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			g.stop()
			return nil, errors.New("versitygw did not answer within 20 s")
		}
	}
}

func (g *gateway) stop() {
	defer g.logf.Close()
	_ = g.cmd.Process.Kill()
	<-g.done
}

// writeConfig writes a camcloud configuration file whose one zone, local,
// keeps its recordings in the gateway's bucket.
func (g *gateway) writeConfig(dir string) (string, error) {
	p := filepath.Join(dir, "s3.yaml")
	y := fmt.Sprintf("zones:\n  - name: local\n    db: %q\n    store: {type: s3, endpoint: %q, region: us-east-1, bucket: %q, access_key: %q, secret_key: %q, path_style: true}\n",
		"sqlite:"+filepath.Join(dir, "zone-local.db"), g.endpoint, g.bucket, g.access, g.secret)
	return p, os.WriteFile(p, []byte(y), 0o600)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = crand.Read(b)
	return hex.EncodeToString(b)
}

// findBinary looks for name on PATH, then in the Go bin directory.
func findBinary(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, d := range []string{os.Getenv("GOBIN"), filepath.Join(os.Getenv("HOME"), "go", "bin"), "/root/go/bin"} {
		if d == "" {
			continue
		}
		if p := filepath.Join(d, name); fileExists(p) {
			return p
		}
	}
	return ""
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// runVOD measures vo.perCamera VOD viewers of each of n recording cameras:
// the cameras record for o.warmup, then each viewer plays random recorded
// ranges of its camera, one after the other, for the window.
func runVOD(ctx context.Context, o *options, vo *viewerOptions, log *slog.Logger, smp *sample.Sample, parent string, n int) (vodResult, error) {
	res := vodResult{store: vo.store, cameras: n, viewers: n * vo.perCamera, st: &vodStats{}}
	dir := filepath.Join(parent, fmt.Sprintf("vod-%s-%d", vo.store, n))
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return res, err
	}
	args := []string{"--segment-duration", vodSegmentDuration, "--http-max-conns", "0", "--http-max-conns-per-ip", "0"}
	storePID := 0
	if vo.store == storeS3 {
		bin := vo.gatewayBin
		if bin == "" {
			bin = findBinary("versitygw")
		}
		if bin == "" {
			return res, errors.New("--store s3 needs versitygw (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0, or --versitygw)")
		}
		g, err := startGateway(ctx, bin, dir)
		if err != nil {
			return res, err
		}
		defer g.stop()
		storePID = g.pid
		cfg, err := g.writeConfig(dir)
		if err != nil {
			return res, err
		}
		args = append(args, "--config", cfg)
	}
	srv, err := startServer(ctx, o.pin, o.bin, dir, append(args, o.serveArgs...))
	if err != nil {
		return res, err
	}
	defer srv.stop()
	orgID, err := srv.setup(ctx)
	if err != nil {
		return res, err
	}
	pubCtx, stopPub := context.WithCancel(ctx)
	defer stopPub()
	runner, _, err := startCameras(ctx, pubCtx, o, log, smp, srv, orgID, n, 0)
	if err != nil {
		return res, err
	}
	recStart := time.Now()
	log.Info("cameras up, recording", "for", o.warmup)
	if err := sleep(ctx, o.warmup); err != nil {
		return res, err
	}
	var cams []string
	for _, s := range runner.Stats() {
		cams = append(cams, s.CameraID)
	}
	cpu, rss, _, err := measure(ctx, srv.pid(), max(o.window/2, 10*time.Second))
	if err != nil {
		return res, err
	}
	res.cpuCams, res.rssCams = cpu, rss

	hc := newHLSClient()
	vctx, stopViewers := context.WithCancel(ctx)
	defer stopViewers()
	var wg sync.WaitGroup
	log.Info("starting VOD viewers", "viewers", res.viewers, "store", vo.store)
	for i := range res.viewers {
		cam := cams[i%n]
		rng := rand.New(rand.NewPCG(uint64(i), 20))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for played := 0; vctx.Err() == nil; played++ {
				// A range of the recording that is uploaded: it ends at
				// least two objects before now.
				latest := time.Now().Add(-25*time.Second - vo.vodRange)
				span := latest.Sub(recStart)
				if span <= 0 {
					res.st.fail(errors.New("not enough recorded: raise --warmup"))
					return
				}
				from := recStart.Add(time.Duration(rng.Int64N(int64(span))))
				var pb struct {
					HLSURL string `json:"hls_url"`
				}
				err := srv.call(vctx, http.MethodPost, "/api/v1/cameras/"+cam+"/playback",
					map[string]string{"from": from.UTC().Format(time.RFC3339Nano), "to": from.Add(vo.vodRange).UTC().Format(time.RFC3339Nano)}, &pb)
				if err == nil {
					err = hc.playVOD(vctx, pb.HLSURL, res.st, vo.maxBuffer, played > 0)
				}
				if err != nil && vctx.Err() == nil {
					res.st.fail(err)
					_ = sleep(vctx, time.Second)
				}
			}
		}()
		if err := sleep(ctx, vo.stagger); err != nil {
			return res, err
		}
	}
	var s0 time.Duration
	if storePID != 0 {
		if s0, err = procCPU(storePID); err != nil {
			return res, err
		}
	}
	t0 := time.Now()
	cpu, rss, self, err := measure(ctx, srv.pid(), o.window)
	if err != nil {
		return res, err
	}
	res.cpuViews, res.rssViews, res.clientCPU = cpu, rss, self
	if storePID != 0 {
		s1, err := procCPU(storePID)
		if err != nil {
			return res, err
		}
		res.storeCPU = 100 * float64(s1-s0) / float64(time.Since(t0))
	}
	if o.profileDir != "" {
		if err := saveServerProfile(ctx, srv.pid(), o, parent, "vod-"+vo.store, n); err != nil {
			log.Warn("profiling failed", "err", err)
		}
	}
	stopViewers()
	wg.Wait()
	stopPub()
	return res, nil
}

// runVODCounts runs the VOD benchmark for each camera count.
func runVODCounts(ctx context.Context, o *options, log *slog.Logger, smp *sample.Sample, parent string) int {
	var rs []vodResult
	code := 0
	for _, n := range o.counts {
		r, err := runVOD(ctx, o, o.viewers, log, smp, parent, n)
		if err != nil {
			log.Error("VOD run failed", "cameras", n, "err", err)
			code = 1
			if ctx.Err() != nil {
				break
			}
			continue
		}
		rs = append(rs, r)
		if r.st.errs > 0 || len(r.st.first) == 0 {
			code = max(code, 3)
		}
	}
	fmt.Println()
	printVODTable(os.Stdout, rs)
	return code
}

// printVODTable writes VOD results as a Markdown table.
func printVODTable(w io.Writer, rs []vodResult) {
	fmt.Fprintln(w, "| store | cameras | viewers | CPU % cameras only | CPU % with viewers | % of a core per viewer | RSS MiB cameras only | with viewers | MiB per viewer | store CPU % | ranges started (played out) | segments | MB received | first segment byte p50 / p95 ms | the same, later ranges | any segment first byte p50 / p95 ms | playlist p50 / p95 ms | stalls | errors | load tool CPU % |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, r := range rs {
		s := r.st
		s.mu.Lock()
		per := (r.cpuViews - r.cpuCams) / float64(max(r.viewers, 1))
		mper := mib(r.rssViews-r.rssCams) / float64(max(r.viewers, 1))
		store := "-"
		if r.store == storeS3 {
			store = fmt.Sprintf("%.1f", r.storeCPU)
		}
		fmt.Fprintf(w, "| %s | %d | %d | %.1f | %.1f | %.3f | %.1f | %.1f | %.3f | %s | %d (%d) | %d | %.0f | %d / %d | %d / %d (%d) | %d / %d | %d / %d | %d | %d | %.0f |\n",
			r.store, r.cameras, r.viewers, r.cpuCams, r.cpuViews, per, mib(r.rssCams), mib(r.rssViews), mper, store,
			len(s.first), s.ranges, s.segments, float64(s.bytes)/1e6,
			ms(percentile(s.first, 0.5)), ms(percentile(s.first, 0.95)),
			ms(percentile(s.later, 0.5)), ms(percentile(s.later, 0.95)), len(s.later),
			ms(percentile(s.segTTFB, 0.5)), ms(percentile(s.segTTFB, 0.95)),
			ms(percentile(s.playlist, 0.5)), ms(percentile(s.playlist, 0.95)),
			s.stalls, s.errs, r.clientCPU)
		if s.lastError != "" {
			fmt.Fprintf(os.Stderr, "camcloud-load: vod %s: last viewer error: %s\n", r.store, s.lastError)
		}
		s.mu.Unlock()
	}
}

func ms(d time.Duration) int64 { return d.Milliseconds() }
