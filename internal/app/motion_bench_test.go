package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	camcloud "github.com/camcloud/camcloud"
	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/cameras"
	"github.com/camcloud/camcloud/internal/config"
	"github.com/camcloud/camcloud/internal/ingesturl"
	"github.com/camcloud/camcloud/internal/motion"
	"github.com/camcloud/camcloud/internal/sample"
	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/testenv"
	"github.com/camcloud/camcloud/internal/webhooks"
)

// BenchmarkWebhookRealMotion measures webhook latency with real motion
// events: CAMCLOUD_BENCH_CAMERAS (default 200) cameras push the moving
// scene (the repository's pre-encoded sample, 30 s with one crossing,
// looped; no encoder runs) over RTSP into one whole process (SQLite),
// their starts spread over 30 s, for CAMCLOUD_BENCH_SECONDS (default 90 s).
// The real ingest, hub, motion detector and events service make the
// `motion` events; one webhook on 127.0.0.1 takes them all. Per delivery
// it reports two lags: from the moment the detector decided (the watcher
// handed the open or close on: the event exists) to the receiver's
// arrival, which is event-to-webhook, and from the event's own time
// (motion start for an open, motion end for a close) to the arrival,
// which adds the detector's confirmation (0.5 s of motion to open, 3 s of
// calm to close). Run it once:
//
//	go test -run '^$' -bench BenchmarkWebhookRealMotion -benchtime 1x ./internal/app/
func BenchmarkWebhookRealMotion(b *testing.B) {
	n, secs := envInt("CAMCLOUD_BENCH_CAMERAS", 200), envInt("CAMCLOUD_BENCH_SECONDS", 90)
	cfg, err := config.Load("serve", []string{"--data-dir", b.TempDir(), "--http", "127.0.0.1:0", "--rtsp", "127.0.0.1:0",
		"--rtmp", "127.0.0.1:0", "--rtsp-udp", "", "--webhook-allow", "127.0.0.0/8", "--webhook-allow-http"},
		func(string) (string, bool) { return "", false })
	if err != nil {
		b.Fatal(err)
	}
	vars := map[string]string{"CAMCLOUD_ADMIN_EMAIL": "admin@example.com", "CAMCLOUD_ADMIN_PASSWORD": "admin-password-1"}
	a, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler), Options{Out: io.Discard,
		Env: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	// The default emitter (ranged motion events), noting when each edge
	// was handed on.
	var mu sync.Mutex
	decided := map[string]time.Time{}
	me := &motionEvents{ev: a.Events, log: slog.New(slog.DiscardHandler), open: map[string]string{}}
	a.MotionEvents = func(ctx context.Context, t motion.Transition) {
		mu.Lock()
		decided[edgeKey(t.CameraID, t.Start, t.Open)] = time.Now()
		mu.Unlock()
		me.emit(ctx, t)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := a.Start(ctx); err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = a.Serve(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	if err := a.Dir.CreateOrg(ctx, store.Org{ID: "o", Name: "o", CreatedAt: time.Now()}); err != nil {
		b.Fatal(err)
	}
	rcv := testenv.NewHookReceiver(b)
	owner := &authz.Principal{UserID: "bench-owner", Roles: map[string]string{"o": store.RoleOwner}}
	types := []string{"motion"}
	_, secret, err := a.Webhooks.Create(ctx, owner, "o", webhooks.Settings{URL: &rcv.URL, Types: &types})
	if err != nil {
		b.Fatal(err)
	}
	rcv.SetSecret(secret)
	smp, err := sample.Parse(camcloud.SampleMovingH264)
	if err != nil {
		b.Fatal(err)
	}
	pctx, stopPush := context.WithCancel(ctx)
	defer stopPush()
	b.ResetTimer()
	for i := range n {
		name := fmt.Sprint("moving ", i)
		c, key, err := a.Cameras.Create(ctx, "o", cameras.Spec{Name: &name})
		if err != nil {
			b.Fatal(err)
		}
		rtsp, _ := ingesturl.URLs("rtsp://"+a.CamServer.RTSPAddr(), "rtmp://unused", c.ID, key)
		go func() { _ = sim.Push(pctx, []string{rtsp}, smp, slog.New(slog.DiscardHandler)) }()
		time.Sleep(30 * time.Second / time.Duration(n)) // the crossings spread over the loop
	}
	time.Sleep(time.Duration(secs)*time.Second - 30*time.Second)
	stopPush() // the streams end: open events are closed
	// Every edge decided delivered, and every open closed (the streams'
	// ends close theirs a moment after the pushes stop), or 60 s.
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		mu.Lock()
		want := len(decided)
		mu.Unlock()
		got, opens := rcv.Accepted(), 0
		for _, d := range got {
			if d.Ongoing {
				opens++
			}
		}
		if len(got) >= want && 2*opens == len(got) {
			break
		}
	}
	b.StopTimer()

	var fromDecided, fromOpen, fromClose []time.Duration
	mu.Lock()
	defer mu.Unlock()
	for _, d := range rcv.Accepted() {
		if !d.SignatureOK {
			b.Errorf("delivery %s: bad signature", d.Key())
		}
		if at, ok := decided[edgeKey(d.CameraID, d.Time, d.Ongoing)]; ok {
			fromDecided = append(fromDecided, d.Received.Sub(at))
		}
		if d.Ongoing {
			fromOpen = append(fromOpen, d.Lag())
		} else {
			fromClose = append(fromClose, d.Lag())
		}
	}
	_, dups := rcv.Tally()
	pd, po, pc := testenv.Percentiles(fromDecided), testenv.Percentiles(fromOpen), testenv.Percentiles(fromClose)
	b.ReportMetric(ms(pd[0]), "p50-ms")
	b.ReportMetric(ms(pd[1]), "p95-ms")
	b.ReportMetric(ms(pd[3]), "max-ms")
	b.ReportMetric(float64(len(decided))/float64(secs), "events/s")
	b.Logf("%d cameras for %d s: %d motion edges decided, %d deliveries (%d opens, %d closes, %d matched to their edge), %d duplicates", n, secs,
		len(decided), len(rcv.Accepted()), len(fromOpen), len(fromClose), len(fromDecided), dups)
	b.Logf("decided to delivered: p50 %s p95 %s p99 %s max %s", pd[0], pd[1], pd[2], pd[3])
	b.Logf("motion start to open delivered: p50 %s p95 %s p99 %s max %s", po[0], po[1], po[2], po[3])
	b.Logf("motion end to close delivered: p50 %s p95 %s p99 %s max %s", pc[0], pc[1], pc[2], pc[3])
}

// edgeKey names a motion edge by camera, start (to the microsecond
// events keep) and whether it opens.
func edgeKey(cam string, start time.Time, open bool) string {
	return cam + "/" + strconv.FormatInt(start.UnixMicro(), 10) + "/" + strconv.FormatBool(open)
}

// envInt reads a positive integer from the environment, or def.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
