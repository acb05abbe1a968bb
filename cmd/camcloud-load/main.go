// Command camcloud-load is the recording load benchmark (and, with
// --viewers, the live viewer benchmark: see viewers.go): for each camera
// count N it starts a fresh `camcloud serve` child process (its own data
// directory, ports on 127.0.0.1), creates N cameras through the API, pushes
// the shipped 720p25 H.264 + AAC sample to each over RTSP (or RTMP) from simulated
// cameras running in this process, and measures the server alone: CPU from
// /proc/<pid>/stat, resident memory from /proc/<pid>/status, and frames sent
// against frames recorded (camcloud_record_frames_recorded_total), which
// must match. It prints one table row per N.
//
// Build camcloud first, then run for example:
//
//	go build -o /tmp/camcloud ./cmd/camcloud
//	go run ./cmd/camcloud-load --bin /tmp/camcloud --cameras 25,50,100 --window 60s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	camcloud "github.com/camcloud/camcloud"
	"github.com/camcloud/camcloud/internal/sample"
)

// maxCameras bounds --cameras entries.
const maxCameras = 5000

// maxViewersPerCamera bounds --per-camera.
const maxViewersPerCamera = 5000

func main() {
	os.Exit(run(os.Args[1:]))
}

// options are the command-line settings of a run.
type options struct {
	bin        string
	counts     []int
	warmup     time.Duration
	window     time.Duration
	profileDir string
	dataDir    string
	samplePath string
	keep       bool
	protocol   string
	serveArgs  []string
	pin        *pinning       // nil: no pinning
	viewers    *viewerOptions // nil: the recording benchmark
}

func parseFlags(args []string) (*options, error) {
	fs := flag.NewFlagSet("camcloud-load", flag.ContinueOnError)
	o := &options{}
	var counts, extra, serverCPUs string
	fs.StringVar(&o.bin, "bin", "./camcloud", "camcloud binary to start as the server")
	fs.StringVar(&counts, "cameras", "25,50,100,200", "comma-separated camera counts, one server run each")
	fs.DurationVar(&o.warmup, "warmup", 20*time.Second, "time after every camera is up before measuring")
	fs.DurationVar(&o.window, "window", 60*time.Second, "measurement window")
	fs.StringVar(&o.profileDir, "profile-dir", "", "when set, save a 30 s CPU profile and a heap profile of the server per N here (taken after the window)")
	fs.StringVar(&o.dataDir, "data-dir", "", "parent of the servers' data directories (default: a temporary directory)")
	fs.StringVar(&o.samplePath, "sample", "", "MPEG-TS sample to loop (default: the built-in 720p25 H.264 + AAC sample)")
	fs.BoolVar(&o.keep, "keep", false, "keep the servers' data directories")
	fs.StringVar(&o.protocol, "protocol", "rtsp", "how the simulated cameras push: rtsp (RTP over TCP) or rtmp")
	fs.StringVar(&extra, "serve-args", "", "extra space-separated flags for camcloud serve")
	fs.StringVar(&serverCPUs, "server-cpus", "", "when set (a CPU list such as 0 or 0-1), run the server on these CPUs (taskset) and the simulated cameras on the others")
	vo := &viewerOptions{}
	var target string
	fs.StringVar(&vo.mode, "viewers", "", "measure viewers instead of recording: webrtc (WHEP, pion), llhls (as hls.js plays) or vod (recorded ranges at 1x, see vod.go)")
	fs.IntVar(&vo.perCamera, "per-camera", 4, "viewers of each camera (with --viewers)")
	fs.IntVar(&vo.stall, "stall", 0, "this many WebRTC viewers stop reading once connected (left out of the counts)")
	fs.IntVar(&vo.slow, "slow", 0, "this many LL-HLS viewers read their parts at 2 KB/s")
	fs.DurationVar(&vo.stagger, "stagger", 20*time.Millisecond, "time between two viewers' starts")
	fs.StringVar(&target, "target", "camcloud", "with --viewers: camcloud (start camcloud serve) or external (a running server: --server-pid and the URL templates)")
	fs.IntVar(&vo.pid, "server-pid", 0, "--target external: the server's process id (for CPU and memory)")
	fs.StringVar(&vo.publishURL, "publish-url", "rtsp://127.0.0.1:8554/cam{i}", "--target external: where camera {i} (1-based) publishes")
	fs.StringVar(&vo.whepURL, "whep-url", "http://127.0.0.1:8889/cam{i}/whep", "--target external: camera {i}'s WHEP endpoint")
	fs.StringVar(&vo.hlsURL, "hls-url", "http://127.0.0.1:8888/cam{i}/index.m3u8", "--target external: camera {i}'s LL-HLS multivariant playlist")
	fs.StringVar(&vo.label, "label", "", "name of the server in the table (default: the target)")
	fs.StringVar(&vo.store, "store", storeLocal, "--viewers vod: where the recordings are: local (the data directory) or s3 (a versitygw started by the tool)")
	fs.StringVar(&vo.gatewayBin, "versitygw", "", "--store s3: the versitygw binary (default: on PATH or in ~/go/bin)")
	fs.DurationVar(&vo.vodRange, "vod-range", 30*time.Second, "--viewers vod: length of each recorded range a viewer plays")
	fs.DurationVar(&vo.maxBuffer, "vod-buffer", 30*time.Second, "--viewers vod: media a viewer fetches ahead of its playhead (hls.js maxBufferLength)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if vo.mode != "" {
		if vo.mode != viewWebRTC && vo.mode != viewLLHLS && vo.mode != viewVOD {
			return nil, fmt.Errorf("--viewers: %q is not webrtc, llhls or vod", vo.mode)
		}
		if vo.store != storeLocal && vo.store != storeS3 {
			return nil, fmt.Errorf("--store: %q is not local or s3", vo.store)
		}
		if vo.vodRange < 5*time.Second || vo.vodRange > time.Hour || vo.maxBuffer < time.Second || vo.maxBuffer > 10*time.Minute {
			return nil, errors.New("--vod-range must be within 5s..1h, --vod-buffer within 1s..10m")
		}
		if vo.perCamera < 1 || vo.perCamera > maxViewersPerCamera {
			return nil, fmt.Errorf("--per-camera must be within 1..%d", maxViewersPerCamera)
		}
		if vo.stall < 0 || vo.slow < 0 || vo.stagger < 0 || vo.stagger > time.Second {
			return nil, errors.New("--stall and --slow must not be negative, --stagger within 0..1s")
		}
		switch target {
		case "camcloud":
		case "external":
			if vo.mode == viewVOD {
				return nil, errors.New("--viewers vod runs against camcloud only")
			}
			vo.external = true
			if vo.pid <= 0 {
				return nil, errors.New("--target external needs --server-pid")
			}
		default:
			return nil, fmt.Errorf("--target: %q is not camcloud or external", target)
		}
		if vo.label == "" {
			vo.label = target
		}
		o.viewers = vo
	}
	for _, s := range strings.Split(counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > maxCameras {
			return nil, fmt.Errorf("--cameras: %q is not a count within 1..%d", s, maxCameras)
		}
		o.counts = append(o.counts, n)
	}
	if o.protocol != "rtsp" && o.protocol != "rtmp" {
		return nil, fmt.Errorf("--protocol: %q is not rtsp or rtmp", o.protocol)
	}
	if o.window < 5*time.Second || o.window > time.Hour {
		return nil, errors.New("--window must be within 5s..1h")
	}
	if o.warmup < 0 || o.warmup > time.Hour {
		return nil, errors.New("--warmup must be within 0..1h")
	}
	o.serveArgs = strings.Fields(extra)
	pin, err := newPinning(serverCPUs)
	if err != nil {
		return nil, fmt.Errorf("--server-cpus: %w", err)
	}
	o.pin = pin
	return o, nil
}

func run(args []string) int {
	o, err := parseFlags(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(os.Stderr, "camcloud-load:", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	var smp *sample.Sample
	if o.samplePath != "" {
		smp, err = sample.Load(o.samplePath)
	} else {
		smp, err = sample.Parse(camcloud.SampleH264)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "camcloud-load: sample:", err)
		return 1
	}
	if o.pin != nil {
		if err := o.pin.pinSelf(); err != nil {
			fmt.Fprintln(os.Stderr, "camcloud-load: --server-cpus:", err)
			return 1
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	parent := o.dataDir
	if parent == "" {
		if parent, err = os.MkdirTemp("", "camcloud-load-"); err != nil {
			fmt.Fprintln(os.Stderr, "camcloud-load:", err)
			return 1
		}
		if !o.keep {
			defer func() { _ = os.RemoveAll(parent) }()
		}
	}
	if o.viewers != nil && o.viewers.mode == viewVOD {
		return runVODCounts(ctx, o, log, smp, parent)
	}
	if o.viewers != nil {
		return runViewerCounts(ctx, o, log, smp, parent)
	}
	var results []result
	failed := false
	for _, n := range o.counts {
		res, err := runOne(ctx, o, log, smp, parent, n)
		if err != nil {
			log.Error("run failed", "cameras", n, "err", err)
			failed = true
			if ctx.Err() != nil {
				break
			}
			continue
		}
		results = append(results, res)
		printTable(os.Stdout, results[len(results)-1:], len(results) == 1)
	}
	fmt.Println()
	printTable(os.Stdout, results, true)
	if failed {
		return 1
	}
	for _, r := range results {
		if r.lost != 0 {
			return 3
		}
	}
	return 0
}

// runViewerCounts runs the viewer benchmark for each camera count.
func runViewerCounts(ctx context.Context, o *options, log *slog.Logger, smp *sample.Sample, parent string) int {
	var rs []viewerResult
	code := 0
	for _, n := range o.counts {
		r, err := runViewers(ctx, o, o.viewers, log, smp, parent, n)
		if err != nil {
			log.Error("viewer run failed", "cameras", n, "err", err)
			code = 1
			if ctx.Err() != nil {
				break
			}
			continue
		}
		rs = append(rs, r)
		if r.sum.ok < r.viewers || r.sum.lostPkts > 0 || r.sum.frames < r.sum.expected {
			code = max(code, 3)
		}
	}
	fmt.Println()
	printViewerTable(os.Stdout, rs, true)
	return code
}

// printTable writes results as a Markdown table.
func printTable(w io.Writer, rs []result, header bool) {
	if header {
		fmt.Fprintln(w, "| cameras | server CPU % of a core | per camera | RSS 0 cams MiB | RSS mean (max) MiB | MiB per camera | sim CPU % | units sent | units recorded | lost | hub overflows |")
		fmt.Fprintln(w, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	}
	for _, r := range rs {
		fmt.Fprintf(w, "| %d | %.1f | %.3f | %.1f | %.1f (%.1f) | %.3f | %.1f | %d | %d | %d | %d |\n",
			r.cameras, r.serverCPU, r.serverCPU/float64(r.cameras), mib(r.rss0), mib(r.rss), mib(r.rssMax),
			mib(r.rss-r.rss0)/float64(r.cameras), r.simCPU, r.sent, r.recorded, r.lost, r.overflows)
	}
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
