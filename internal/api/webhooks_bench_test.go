package api_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/testenv"
)

// BenchmarkWebhookDelivery measures the time from an event to its
// webhook delivery at 200 cameras with motion-like activity: each camera
// has an episode every 20 s on average (uniformly 10-30 s apart) lasting
// 2-8 s, posted through the API as two custom events, as the motion
// detector's open and close would be (two deliveries: opened, ended), so
// 20 events a second for 60 s on one all-in-one node (SQLite). Motion
// detection itself is not wired into this branch: the events are custom
// ones, stamped with the client's clock at the moment they happen. The
// receiver on 127.0.0.1 answers at once; the lag is its arrival time less
// the event's time (the end, for the closing one). Run it once:
//
//	go test -run '^$' -bench BenchmarkWebhookDelivery -benchtime 1x ./internal/api/
func BenchmarkWebhookDelivery(b *testing.B) {
	const (
		cameras  = 200
		duration = 60 * time.Second
	)
	e := start(b, webhookFlags...)
	w := e.world()
	cams := []string{w.camA}
	for i := 1; i < cameras; i++ {
		cams = append(cams, e.must(e.do("POST", "/api/v1/cameras", w.tok["admin"],
			map[string]any{"org_id": w.orgA, "name": fmt.Sprint("bench ", i)}), http.StatusCreated).str("id"))
	}
	rcv := testenv.NewHookReceiver(b)
	hook := e.must(e.do("POST", "/api/v1/orgs/"+w.orgA+"/webhooks", w.tok["admin"], map[string]any{"url": rcv.URL, "types": []string{"custom.motion"}}), 201)
	rcv.SetSecret(hook.str("secret"))
	tok := w.tok["operator"]
	b.ResetTimer()

	var mu sync.Mutex
	var posts []time.Duration
	var failures int
	testenv.MotionLike(cams, duration, func(cam string, start time.Time, end *time.Time) {
		body := map[string]any{"type": "custom.motion", "time": start}
		if end != nil {
			body["end"] = *end
		}
		t0 := time.Now()
		status, err := testenv.APITry(e.base, tok, "POST", "/api/v1/cameras/"+cam+"/events", body)
		mu.Lock()
		defer mu.Unlock()
		if err != nil || status != http.StatusCreated {
			failures++
			return
		}
		posts = append(posts, time.Since(t0))
	})
	want := len(posts)
	rcv.WaitAccepted(b, want, 60*time.Second)
	b.StopTimer()

	var lags []time.Duration
	for _, d := range rcv.Accepted() {
		lags = append(lags, d.Lag())
		if !d.SignatureOK {
			b.Errorf("delivery %s: bad signature", d.Key())
		}
	}
	_, dups := rcv.Tally()
	lp, pp := testenv.Percentiles(lags), testenv.Percentiles(posts)
	b.ReportMetric(ms(lp[0]), "p50-ms")
	b.ReportMetric(ms(lp[1]), "p95-ms")
	b.ReportMetric(ms(lp[2]), "p99-ms")
	b.ReportMetric(ms(lp[3]), "max-ms")
	b.ReportMetric(float64(want)/duration.Seconds(), "events/s")
	b.Logf("%d cameras, %d events in %s (%.1f/s, %d posts failed), %d delivered, %d duplicates; event to delivery p50 %s p95 %s p99 %s max %s; POST p50 %s p95 %s",
		cameras, want, duration, float64(want)/duration.Seconds(), failures, len(rcv.Accepted()), dups,
		lp[0], lp[1], lp[2], lp[3], pp[0], pp[1])
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
