package record

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/testenv"
)

// TestNewInitWhenParamsChange: when the camera's in-band SPS changes (here
// its level, from the second pass of the sample on), the segment open is
// closed at the keyframe that brings it and the next one starts with a
// new init segment describing it; the first keyframe of the change is
// where the hub (Unit.Codec) tells the recorder.
func TestNewInitWhenParamsChange(t *testing.T) {
	e := newEnv(t, nil) // 4 s segments
	e.run(t)
	smp := testenv.Sample(t, "sample-h264.ts")
	f := startRecording(t, e.rec, "cam1", smp)
	f.feed(0, 1)
	changed := 0
	for _, u := range smp.Loop(1) {
		u.NTP = epoch.Add(ticksToDur(u.DTS, smp.Tracks[u.Track-1].ClockRate))
		u.Payload = slices.Clone(u.Payload) // shared with the sample, which other tests load
		for i, n := range u.Payload {
			if u.Track == 1 && len(n) > 3 && n[0]&0x1f == 7 { // SPS: level_idc is its fourth byte
				sps := bytes.Clone(n)
				sps[3] = 0x28 // level 4.0
				u.Payload[i] = sps
				changed++
			}
		}
		f.stream.Write(u)
		f.written++
	}
	f.waitConsumed(f.written)
	if changed == 0 {
		t.Fatal("the sample's keyframes carry no SPS")
	}
	if err := f.end(); err != nil {
		t.Fatal(err)
	}
	drain(t, e.rec)
	rows := e.index.sorted()
	// 0-4, 4-8, 8-10 (closed at the change), 10-14, 14-18, 18-20.
	if len(rows) != 6 || !rows[3].Start.Equal(epoch.Add(10*time.Second)) {
		t.Fatalf("%d rows, want 6 with the fourth at 10 s: %+v", len(rows), rows)
	}
	for i, row := range rows {
		first := i < 3
		if (row.InitKey == rows[0].InitKey) != first || strings.HasPrefix(row.Codec, "avc1.4d4028") == first {
			t.Errorf("row %d: init %s codec %s", i, row.InitKey, row.Codec)
		}
	}
	inits := 0
	e.store.List(context.Background(), "cam/cam1/init/", func(string, int64) error { inits++; return nil })
	if inits != 2 {
		t.Errorf("%d init objects, want 2", inits)
	}
	checkSegments(t, e.store, rows, []string{"h264", "aac"})
}
