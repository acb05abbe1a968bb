package api_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/sample"
	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestWebhookScenario is the 60 s scenario on one node: a camera
// that streams (camera.online), stops (camera.offline) and comes back,
// and custom events posted through the API on four cameras, five a
// second, while the webhook receiver on 127.0.0.1 answers 500 for the
// first 30 s and 200 after. Every event of the organisation arrives
// (each event version the listing shows, by id and seq) with a valid
// signature, in order per camera, and none of the other organisation's.
func TestWebhookScenario(t *testing.T) {
	const (
		scenario = 60 * time.Second
		failFor  = 30 * time.Second
	)
	e := start(t, append([]string{"--offline-debounce", "2s"}, webhookFlags...)...)
	w := e.world()
	rcv := testenv.NewHookReceiver(t)
	began := time.Now()
	rcv.SetAnswer(func(testenv.HookDelivery) int {
		if time.Since(began) < failFor {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	hook := e.must(e.do("POST", "/api/v1/orgs/"+w.orgA+"/webhooks", w.tok["admin"], map[string]any{"url": rcv.URL}), 201)
	rcv.SetSecret(hook.str("secret"))
	cams := []string{w.camA}
	for i := range 3 {
		cams = append(cams, e.must(e.do("POST", "/api/v1/cameras", w.tok["admin"],
			map[string]any{"org_id": w.orgA, "name": fmt.Sprintf("scenario %d", i), "source": map[string]string{"type": "push"}}), 201).str("id"))
	}
	smp, err := sample.Load("../../testdata/sample-h264.ts")
	if err != nil {
		t.Fatal(err)
	}
	push := func(d time.Duration) {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		_ = sim.Push(ctx, []string{w.secretURL}, smp, nil)
	}
	go func() {
		push(15 * time.Second) // online, then offline after the debounce
		time.Sleep(10 * time.Second)
		push(scenario - 30*time.Second) // online again
	}()
	posted := 0
	for tick := time.NewTicker(200 * time.Millisecond); time.Since(began) < scenario; <-tick.C {
		cam := cams[posted%len(cams)]
		e.must(e.do("POST", "/api/v1/cameras/"+cam+"/events", w.tok["operator"], map[string]any{"type": "custom.scenario",
			"detail": map[string]int{"n": posted}}), 201)
		if posted%25 == 0 {
			e.must(e.do("POST", "/api/v1/cameras/"+w.camB+"/events", w.tok["other"], map[string]any{"type": "custom.scenario"}), 201)
		}
		posted++
	}
	t.Logf("posted %d custom events in %s", posted, time.Since(began).Round(time.Second))

	// What happened, as the listing has it (the last version of each event).
	want := map[string]string{}
	for cursor := ""; ; {
		res := e.must(e.do("GET", "/api/v1/events?org="+w.orgA+"&limit=1000&cursor="+cursor, w.tok["admin"], nil), 200)
		evs, _ := res.Body["events"].([]any)
		for _, x := range evs {
			m, _ := x.(map[string]any)
			seq, _ := m["seq"].(float64)
			want[fmt.Sprintf("%s/%d", m["id"], int64(seq))], _ = m["type"].(string)
		}
		if cursor = res.str("next_cursor"); cursor == "" {
			break
		}
	}
	types := map[string]int{}
	for _, typ := range want {
		types[typ]++
	}
	if types["camera.online"] < 2 || types["camera.offline"] < 1 || types["custom.scenario"] != posted {
		t.Fatalf("the scenario's events: %v", types)
	}
	testenv.Eventually(t, 60*time.Second, "every event delivered", func() bool {
		got, _ := rcv.Tally()
		for k := range want {
			if got[k] == 0 {
				return false
			}
		}
		return true
	})
	got, dups := rcv.Tally()
	failed := len(rcv.All()) - len(rcv.Accepted())
	last := map[string]int64{}
	for _, d := range rcv.Accepted() {
		if !d.SignatureOK {
			t.Errorf("delivery %s: signature does not verify", d.Key())
		}
		if d.OrgID != w.orgA {
			t.Errorf("delivery of another organisation's event %s", d.Key())
		}
		if d.Seq <= last[d.CameraID] {
			t.Errorf("camera %s: seq %d after %d", d.CameraID, d.Seq, last[d.CameraID])
		}
		last[d.CameraID] = d.Seq
	}
	t.Logf("%d events (%v) all delivered: %d distinct deliveries (ranged events opened and ended count twice), %d duplicates, %d answered 500, done %s after the start",
		len(want), types, len(got), dups, failed, time.Since(began).Round(time.Second))
	if failed == 0 {
		t.Error("the receiver never failed a delivery: the scenario did not test retries")
	}
}
