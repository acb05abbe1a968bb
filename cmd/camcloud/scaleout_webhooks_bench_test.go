package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/testenv"
)

// BenchmarkScaleOutWebhookDelivery measures event to webhook delivery
// across processes: two api nodes on MariaDB, 200 cameras with
// motion-like activity (testenv.MotionLike: an episode every 20 s on
// average, posted as two custom events, start and end; motion detection
// is not wired into this branch), the events posted through both nodes in
// turn, so that about half are written by the node that does not hold
// the webhook's lease and reach it through its 500 ms poll of the zone's
// log. It reports the percentiles of all deliveries and of those two
// halves. With 10 cameras instead (under one event a second), the
// stream of the delivering node idles between events and waits for its
// poll. Run it once:
//
//	go test -run '^$' -bench BenchmarkScaleOutWebhookDelivery -benchtime 1x ./cmd/camcloud/
func BenchmarkScaleOutWebhookDelivery(b *testing.B) {
	for _, cams := range []int{200, 10} {
		b.Run(fmt.Sprintf("cameras=%d", cams), func(b *testing.B) { benchHookDelivery(b, cams) })
	}
}

func benchHookDelivery(b *testing.B, cameras int) {
	const duration = 60 * time.Second
	d := newHookDeployment(b, 2, cameras)
	rcv := testenv.NewHookReceiver(b)
	var hook struct{ ID, Secret string }
	api1 := "http://" + d.apis[0].http
	testenv.APICall(b, api1, d.tok, "POST", "/api/v1/orgs/"+d.org+"/webhooks", map[string]any{"url": rcv.URL}, &hook)
	rcv.SetSecret(hook.Secret)
	holder := ""
	testenv.Eventually(b, 10*time.Second, "a node delivering", func() bool {
		holder = leaseHolder(b, d.apis, d.tok, "/api/v1/orgs/"+d.org+"/webhooks/"+hook.ID)
		return holder != ""
	})
	deliverer := nodeByPid(d.apis, holder)
	b.ResetTimer()

	var mu sync.Mutex
	byNode := map[string]*node{} // event start (+end) -> node posted through
	turn, failures := 0, 0
	testenv.MotionLike(d.cams, duration, func(cam string, start time.Time, end *time.Time) {
		ev := map[string]any{"type": "custom.motion", "time": start}
		key := eventKey(cam, start, end)
		if end != nil {
			ev["end"] = *end
		}
		mu.Lock()
		n := d.apis[turn%len(d.apis)]
		turn++
		mu.Unlock()
		err := postEvent(n, d.tok, cam, ev)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failures++
			return
		}
		byNode[key] = n
	})
	want := len(byNode)
	rcv.WaitAccepted(b, want, 60*time.Second)
	b.StopTimer()

	var all, same, other []time.Duration
	for _, h := range rcv.Accepted() {
		lag := h.Lag()
		all = append(all, lag)
		if byNode[eventKey(h.CameraID, h.Time, h.End)] == deliverer {
			same = append(same, lag)
		} else {
			other = append(other, lag)
		}
	}
	_, dups := rcv.Tally()
	pa, ps, po := testenv.Percentiles(all), testenv.Percentiles(same), testenv.Percentiles(other)
	for i, unit := range []string{"p50-ms", "p95-ms", "p99-ms", "max-ms"} {
		b.ReportMetric(float64(pa[i].Milliseconds()), unit)
	}
	b.ReportMetric(float64(want)/duration.Seconds(), "events/s")
	line := func(p [4]time.Duration) string {
		return fmt.Sprintf("p50 %s p95 %s p99 %s max %s", p[0], p[1], p[2], p[3])
	}
	b.Logf("2 api nodes (MariaDB), %d cameras, %d events in %s (%.1f/s, %d posts failed), %d delivered by %s, %d duplicates\n"+
		"  all:                       %s\n  written by the deliverer:  %s (%d)\n  written by the other node: %s (%d)",
		cameras, want, duration, float64(want)/duration.Seconds(), failures, len(all), strings.TrimSpace(deliverer.name), dups,
		line(pa), line(ps), len(same), line(po), len(other))
}

// eventKey names a posted event by camera and times, as stored (to the
// microsecond).
func eventKey(cam string, start time.Time, end *time.Time) string {
	k := fmt.Sprintf("%s/%d", cam, start.UnixMicro())
	if end != nil {
		k += fmt.Sprintf("-%d", end.UnixMicro())
	}
	return k
}
