package camserver_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sort"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/testenv"
)

// listedEvent is an event as the camera's event listing answers it.
type listedEvent struct {
	Type    string          `json:"type"`
	Time    time.Time       `json:"time"`
	End     *time.Time      `json:"end"`
	Ongoing bool            `json:"ongoing"`
	Detail  json.RawMessage `json:"detail"`
}

// TestStoreOutageEvents: a camera records (a real RTSP publish of the
// 2 Mbit/s sample) into a real S3 store (versitygw) that goes away, with a
// spool of 3 MB, so that the spool fills and drops its oldest video. The
// spool's pressure opens recording.storage; every segment dropped is a
// recording.gap over its range with the reason spool_full, new video with
// no room (the spool's segments all being sent) one with spool_full_new,
// and those events explain every hole in the index; recording.storage
// ends once the store is back and the spool drains. Recording never stops.
func TestStoreOutageEvents(t *testing.T) {
	t.Parallel()
	s3, n := startS3Node(t, "pressure", "--max-spool-bytes", "3000000")
	smp := testenv.Sample(t, "sample-h264.ts")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cam := n.camera("pressure", nil)
	go func() {
		_ = sim.Push(ctx, []string{cam.Ingest.RTSP}, smp, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	list := func() []listedEvent {
		var page struct {
			Events []listedEvent `json:"events"`
		}
		if s := n.call("GET", "/api/v1/cameras/"+cam.ID+"/events?type=recording.storage,recording.gap", nil, &page); s != 200 {
			t.Fatalf("events: %d", s)
		}
		return page.Events
	}
	count := func(evs []listedEvent, typ string, ongoing bool) int {
		c := 0
		for _, e := range evs {
			if e.Type == typ && e.Ongoing == ongoing {
				c++
			}
		}
		return c
	}
	testenv.Eventually(t, 30*time.Second, "first segment uploaded", func() bool { return len(n.segments(cam.ID)) > 0 })
	s3.Stop()
	outage := time.Now()
	testenv.Eventually(t, 60*time.Second, "recording.storage opened and a segment dropped", func() bool {
		evs := list()
		return count(evs, "recording.storage", true) == 1 && count(evs, "recording.gap", false) > 0
	})
	s3.Start()
	back := time.Now()
	testenv.Eventually(t, 60*time.Second, "recording.storage ended", func() bool {
		evs := list()
		return count(evs, "recording.storage", true) == 0 && count(evs, "recording.storage", false) == 1
	})
	time.Sleep(8 * time.Second) // recording goes on after the outage
	evs := list()
	cancel()
	n.stop()

	var gapEvents []listedEvent
	drops, lostNew := 0, 0
	for _, e := range evs {
		switch {
		case e.Type == "recording.storage":
			if e.End == nil || e.Time.Before(outage) || e.End.Before(back) {
				t.Errorf("recording.storage %s..%v, the store was away %s..%s", e.Time, e.End, outage, back)
			}
			var d struct {
				Reason string `json:"reason"`
			}
			_ = json.Unmarshal(e.Detail, &d)
			if d.Reason != "spool_pressure" {
				t.Errorf("recording.storage reason %q, want spool_pressure", d.Reason)
			}
		case e.Type == "recording.gap":
			// A segment the spool dropped (reason spool_full), new video
			// it had no room for while the oldest was being sent
			// (spool_full_new), or the recording state failing past a
			// status report (its state and reason).
			var d struct {
				Reason string `json:"reason"`
				State  string `json:"state"`
			}
			_ = json.Unmarshal(e.Detail, &d)
			if e.End == nil || !e.End.After(e.Time) || (d.Reason != "spool_full" && d.Reason != "spool_full_new" && d.State == "") {
				t.Errorf("recording.gap %s..%v reason %q state %q, want a range, spool_full, spool_full_new or a recording state", e.Time, e.End, d.Reason, d.State)
				continue
			}
			switch d.Reason {
			case "spool_full":
				drops++
			case "spool_full_new":
				lostNew++
			}
			gapEvents = append(gapEvents, e)
		}
	}
	if drops == 0 {
		t.Error("no recording.gap for a dropped segment")
	}
	// Every hole in the index is a dropped segment's range, and the
	// camera was recorded before, during (what the spool kept) and after.
	rows := n.segments(cam.ID)
	// The events' ranges, merged where they meet (within a second).
	sort.Slice(gapEvents, func(i, j int) bool { return gapEvents[i].Time.Before(gapEvents[j].Time) })
	var covered [][2]time.Time
	for _, e := range gapEvents {
		if k := len(covered) - 1; k >= 0 && !e.Time.After(covered[k][1].Add(time.Second)) {
			if e.End.After(covered[k][1]) {
				covered[k][1] = *e.End
			}
			continue
		}
		covered = append(covered, [2]time.Time{e.Time, *e.End})
	}
	explained := func(from, to time.Time) bool {
		for _, c := range covered {
			if !c[0].After(from.Add(time.Second)) && !c[1].Before(to.Add(-time.Second)) {
				return true
			}
		}
		return false
	}
	holes := 0
	for i := 1; i < len(rows); i++ {
		if from, to := rows[i-1].End, rows[i].Start; to.Sub(from) > 500*time.Millisecond {
			holes++
			if !explained(from, to) {
				t.Errorf("a hole of %s in the recording %s..%s with no recording.gap over it (gaps: %d)",
					to.Sub(from).Round(time.Millisecond), from, to, len(gapEvents))
			}
		}
	}
	if holes == 0 {
		t.Error("the spool dropped video but the index has no hole")
	}
	if last := rows[len(rows)-1].End; last.Before(back) {
		t.Errorf("recorded until %s, the store was back at %s: recording stopped", last, back)
	}
	t.Logf("store away %s; %d segments dropped, %d losses of new video, %d recording.gap events, %d holes in the index, %d segments kept",
		back.Sub(outage).Round(time.Second), drops, lostNew, len(gapEvents), holes, len(rows))
}
