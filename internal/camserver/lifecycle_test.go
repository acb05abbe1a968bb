package camserver_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/testenv"
)

// nodeSegment is the segment duration startNode sets.
const nodeSegment = 6 * time.Second

// TestChangesReachTheHolder: deleting a streaming camera drops its
// publisher and refuses its credentials, and turning recording off stops
// its recorder while it stays live; neither records a segment that begins
// after the change (the segment open at the change is closed early), and
// turning recording back on records the same stream again.
func TestChangesReachTheHolder(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir())
	smp := testenv.Sample(t, "sample-h264.ts")
	off, del := n.camera("turned off", nil), n.camera("deleted", nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stOff, stDel := &sim.Stats{}, &sim.Stats{}
	go func() { _ = sim.PushStats(ctx, []string{off.Ingest.RTSP}, smp, nil, stOff) }()
	go func() { _ = sim.PushStats(ctx, []string{del.Ingest.RTMP}, smp, nil, stDel) }()
	testenv.Eventually(t, 60*time.Second, "both cameras recorded", func() bool {
		return len(n.segments(off.ID)) > 0 && len(n.segments(del.ID)) > 0
	})

	tOff := time.Now()
	if s := n.call("PATCH", "/api/v1/cameras/"+off.ID, map[string]any{"recording": "off"}, nil); s != 200 {
		t.Fatalf("recording off: %d", s)
	}
	tDel := time.Now()
	if s := n.call("DELETE", "/api/v1/cameras/"+del.ID, nil, nil); s != 204 {
		t.Fatalf("delete: %d", s)
	}
	testenv.Eventually(t, 15*time.Second, "the deleted camera's publisher dropped", func() bool { return !stDel.Connected.Load() })
	pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
	err := sim.PublishOnce(pctx, del.Ingest.RTSP, smp, nil)
	pcancel()
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the deleted camera's credentials still publish: %v", err)
	}

	// Long enough for two more segments to close and upload if either
	// camera were still recorded.
	time.Sleep(2*nodeSegment + 2*time.Second)
	if !stOff.Connected.Load() {
		t.Error("a camera with recording off was dropped: it should stay live")
	}
	for name, c := range map[string]struct {
		id string
		at time.Time
	}{"recording off": {off.ID, tOff}, "deleted": {del.ID, tDel}} {
		rows := n.segments(c.id)
		last := rows[len(rows)-1]
		t.Logf("%s: the last segment ends %s after the change", name, last.End.Sub(c.at).Round(100*time.Millisecond))
		if late := startedAfter(rows, c.at.Add(nodeSegment)); len(late) > 0 {
			t.Errorf("%s: %d segments begin more than a segment after the change (first at +%s): still recording",
				name, len(late), late[0].Start.Sub(c.at).Round(100*time.Millisecond))
		}
	}

	tOn := time.Now()
	if s := n.call("PATCH", "/api/v1/cameras/"+off.ID, map[string]any{"recording": "continuous"}, nil); s != 200 {
		t.Fatalf("recording on: %d", s)
	}
	testenv.Eventually(t, 60*time.Second, "recording resumed", func() bool { return len(startedAfter(n.segments(off.ID), tOn)) > 0 })
}

// startedAfter returns the rows that begin after t.
func startedAfter(rows []store.Segment, t time.Time) []store.Segment {
	var out []store.Segment
	for _, r := range rows {
		if r.Start.After(t) {
			out = append(out, r)
		}
	}
	return out
}
