package store

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestZone(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		z := openZone(t, dsn)
		t.Run("segments", func(t *testing.T) { testSegments(t, z) })
		t.Run("spans", func(t *testing.T) { testSpans(t, z) })
		t.Run("retention", func(t *testing.T) { testRetention(t, z) })
		t.Run("usage", func(t *testing.T) { testSegmentUsage(t, z) })
		t.Run("status", func(t *testing.T) { testStatus(t, z) })
		t.Run("servers", func(t *testing.T) { testServers(t, z) })
		t.Run("leases", func(t *testing.T) { testLeases(t, z) })
		t.Run("lease contention", func(t *testing.T) { testLeaseContention(t, z, openZone(t, dsn)) })
		t.Run("validation", func(t *testing.T) { testZoneValidation(t, z) })
	})
}

// seg returns a segment of camera from base+s to base+e seconds.
func seg(camera string, base time.Time, s, e int) Segment {
	start := base.Add(time.Duration(s) * time.Second)
	return Segment{
		CameraID: camera, Start: start, End: base.Add(time.Duration(e) * time.Second),
		Size: int64(1000 * (e - s)), Key: fmt.Sprintf("%s/%d.m4s", camera, start.UnixMicro()), InitKey: camera + "/init.mp4",
		Codec: "avc1.64001f,mp4a.40.2",
		Fragments: []Fragment{
			{Offset: 0, Size: 500, Start: 0, Duration: time.Second, Key: true},
			{Offset: 500, Size: 300, Start: time.Second, Duration: time.Duration(e-s-1) * time.Second},
		},
	}
}

// starts lists the start offsets, in seconds from base, of segs.
func starts(segs []Segment, base time.Time) []int {
	var out []int
	for _, s := range segs {
		out = append(out, int(s.Start.Sub(base)/time.Second))
	}
	return out
}

// insertAll stores segs, failing the test on any error.
func insertAll(t *testing.T, z Zone, segs ...Segment) {
	t.Helper()
	for _, s := range segs {
		must(t, z.InsertSegment(ctxT(t), s))
	}
}

func testSegments(t *testing.T, z Zone) {
	ctx := ctxT(t)
	base := t0
	// camA: [0,60) [60,120) [120,180), then a gap, [300,360).
	insertAll(t, z, seg("camA", base, 60, 120), seg("camA", base, 0, 60), seg("camA", base, 120, 180), seg("camA", base, 300, 360))
	insertAll(t, z, seg("camB", base, 0, 60))

	got, err := z.ListSegments(ctx, "camA", base, base.Add(time.Hour), 0)
	must(t, err)
	want := seg("camA", base, 0, 60)
	if !got[0].Start.Equal(want.Start) || !got[0].End.Equal(want.End) {
		t.Fatalf("times = %v..%v, want %v..%v", got[0].Start, got[0].End, want.Start, want.End)
	}
	got[0].Start, got[0].End = want.Start, want.End
	if !reflect.DeepEqual(got[0], want) {
		t.Fatalf("segment round trip:\n got %+v\nwant %+v", got[0], want)
	}

	sec := func(n int) time.Time { return base.Add(time.Duration(n) * time.Second) }
	for _, tc := range []struct {
		name     string
		from, to int
		limit    int
		want     []int
	}{
		{"all", -1000, 1000, 0, []int{0, 60, 120, 300}},
		{"exact segment: edges touching neighbours excluded", 60, 120, 0, []int{60}},
		{"straddles a boundary", 59, 61, 0, []int{0, 60}},
		{"inside one", 130, 140, 0, []int{120}},
		{"in the gap", 180, 300, 0, nil},
		{"gap edge into next", 200, 301, 0, []int{300}},
		{"limit", -1000, 1000, 2, []int{0, 60}},
		{"empty range", 100, 100, 0, nil},
		{"reversed range", 200, 100, 0, nil},
	} {
		got, err := z.ListSegments(ctx, "camA", sec(tc.from), sec(tc.to), tc.limit)
		must(t, err)
		if !reflect.DeepEqual(starts(got, base), tc.want) {
			t.Errorf("ListSegments %s [%d,%d) = %v, want %v", tc.name, tc.from, tc.to, starts(got, base), tc.want)
		}
	}

	for _, tc := range []struct {
		at   int
		want int // -1: ErrNotFound
	}{{30, 0}, {60, 60}, {119, 60}, {250, 120}, {300, 300}, {5000, 300}, {-1, -1}} {
		s, err := z.SegmentAt(ctx, "camA", sec(tc.at))
		if tc.want < 0 {
			wantErr(t, err, ErrNotFound)
			continue
		}
		must(t, err)
		if got := int(s.Start.Sub(base) / time.Second); got != tc.want || s.CameraID != "camA" {
			t.Errorf("SegmentAt(%d) starts at %d, want %d", tc.at, got, tc.want)
		}
	}
	_, err = z.SegmentAt(ctx, "nocam", sec(30))
	wantErr(t, err, ErrNotFound)

	// Inserting the same (camera, start) again replaces the row.
	again := seg("camA", base, 0, 60)
	again.Size, again.Fragments = 42, nil
	must(t, z.InsertSegment(ctx, again))
	s, err := z.SegmentAt(ctx, "camA", sec(10))
	must(t, err)
	if s.Size != 42 || s.Fragments != nil {
		t.Fatalf("after re-insert: size %d fragments %v", s.Size, s.Fragments)
	}

	// A long segment that starts well before from is still found.
	insertAll(t, z, seg("camLong", base, 0, int((2*time.Hour).Seconds())))
	got, err = z.ListSegments(ctx, "camLong", sec(7000), sec(7100), 0)
	must(t, err)
	if len(got) != 1 {
		t.Fatalf("long segment not listed: %v", starts(got, base))
	}

	cams, err := z.SegmentCameras(ctx)
	must(t, err)
	if !reflect.DeepEqual(cams, []string{"camA", "camB", "camLong"}) {
		t.Fatalf("SegmentCameras = %v", cams)
	}
}

func testSpans(t *testing.T, z Zone) {
	ctx := ctxT(t)
	base := t0.Add(24 * time.Hour)
	// [0,60) [60,120) [121,180) gap of 1 s, [300,360) gap of 120 s, plus a
	// segment overlapping its predecessor.
	insertAll(t, z, seg("span", base, 0, 60), seg("span", base, 60, 120), seg("span", base, 121, 180),
		seg("span", base, 300, 360), seg("span", base, 350, 400))
	insertAll(t, z, seg("other", base, 180, 300))
	sec := func(n int) time.Time { return base.Add(time.Duration(n) * time.Second) }
	type sp [2]int
	for _, tc := range []struct {
		name     string
		from, to int
		gap      time.Duration
		want     []sp
	}{
		{"merge small gaps", -100, 1000, 2 * time.Second, []sp{{0, 180}, {300, 400}}},
		{"no gap allowed", -100, 1000, 0, []sp{{0, 120}, {121, 180}, {300, 400}}},
		{"negative gap is zero", -100, 1000, -time.Second, []sp{{0, 120}, {121, 180}, {300, 400}}},
		{"huge gap merges all", -100, 1000, time.Hour, []sp{{0, 400}}},
		{"clipped both ends", 30, 330, 2 * time.Second, []sp{{30, 180}, {300, 330}}},
		{"inside one segment", 10, 20, 0, []sp{{10, 20}}},
		{"in the gap", 180, 300, time.Second, nil},
		{"empty range", 50, 50, time.Second, nil},
	} {
		got, err := z.Spans(ctx, "span", sec(tc.from), sec(tc.to), tc.gap)
		must(t, err)
		var gotS []sp
		for _, s := range got {
			gotS = append(gotS, sp{int(s.Start.Sub(base) / time.Second), int(s.End.Sub(base) / time.Second)})
			if s.Start.Location() != time.UTC {
				t.Errorf("span not in UTC: %v", s.Start)
			}
		}
		if !reflect.DeepEqual(gotS, tc.want) {
			t.Errorf("Spans %s = %v, want %v", tc.name, gotS, tc.want)
		}
	}
}

func testRetention(t *testing.T, z Zone) {
	ctx := ctxT(t)
	base := t0.Add(48 * time.Hour)
	sec := func(n int) time.Time { return base.Add(time.Duration(n) * time.Second) }
	for i := 0; i < 5; i++ {
		insertAll(t, z, seg("ret1", base, i*60, i*60+60))
	}
	insertAll(t, z, seg("ret2", base, 30, 70), seg("ret2", base, 500, 560))

	exp, err := z.ExpiredSegments(ctx, "ret1", time.Time{}, sec(180), 0)
	must(t, err)
	if !reflect.DeepEqual(starts(exp, base), []int{0, 60}) { // [120,180) ends at 180: not before it
		t.Fatalf("ExpiredSegments = %v", starts(exp, base))
	}
	exp, err = z.ExpiredSegments(ctx, "ret1", time.Time{}, sec(1000), 3)
	must(t, err)
	if !reflect.DeepEqual(starts(exp, base), []int{0, 60, 120}) {
		t.Fatalf("ExpiredSegments limit 3 = %v", starts(exp, base))
	}
	exp, err = z.ExpiredSegments(ctx, "ret1", sec(60), sec(1000), 2)
	must(t, err)
	if !reflect.DeepEqual(starts(exp, base), []int{60, 120}) {
		t.Fatalf("ExpiredSegments from 60 limit 2 = %v", starts(exp, base))
	}

	old, err := z.OldestSegments(ctx, time.Time{}, 3)
	must(t, err)
	// Oldest by end across cameras of this zone: earlier subtests used
	// earlier bases, so compare only relative order.
	for i := 1; i < len(old); i++ {
		if old[i].End.Before(old[i-1].End) {
			t.Fatalf("OldestSegments not ordered by end: %v then %v", old[i-1].End, old[i].End)
		}
	}
	if len(old) != 3 {
		t.Fatalf("OldestSegments returned %d, want 3", len(old))
	}
	later, err := z.OldestSegments(ctx, sec(120), 2)
	must(t, err)
	if len(later) != 2 || later[0].End.Before(sec(120)) {
		t.Fatalf("OldestSegments from end 120 = %+v", later)
	}

	must(t, z.DeleteSegments(ctx, "ret1", []time.Time{sec(0), sec(60), sec(9999)}))
	must(t, z.DeleteSegments(ctx, "ret1", nil))
	left, err := z.ListSegments(ctx, "ret1", sec(0), sec(1000), 0)
	must(t, err)
	if !reflect.DeepEqual(starts(left, base), []int{120, 180, 240}) {
		t.Fatalf("after DeleteSegments = %v", starts(left, base))
	}
	// Same starts on another camera are untouched.
	other, _ := z.ListSegments(ctx, "ret2", sec(0), sec(1000), 0)
	if len(other) != 2 {
		t.Fatalf("DeleteSegments touched another camera: %v", starts(other, base))
	}

	// More starts than one delete batch.
	var many []time.Time
	for i := 0; i < deleteBatch+20; i++ {
		s := seg("ret3", base, i*2, i*2+2)
		s.Fragments = nil
		insertAll(t, z, s)
		many = append(many, s.Start)
	}
	must(t, z.DeleteSegments(ctx, "ret3", many))
	left, _ = z.ListSegments(ctx, "ret3", sec(-10), sec(100000), 0)
	if len(left) != 0 {
		t.Fatalf("%d segments left after batched delete", len(left))
	}
}

func testStatus(t *testing.T, z Zone) {
	ctx := ctxT(t)
	st, err := z.GetStatus(ctx, "st1")
	must(t, err)
	if st != (CameraStatus{CameraID: "st1"}) {
		t.Fatalf("GetStatus of unknown camera = %+v", st)
	}
	s1 := CameraStatus{CameraID: "st1", Online: true, Codec: "avc1.64001f", BitrateKbps: 2048, LastSeen: t0, Server: "srv1"}
	must(t, z.PutStatus(ctx, s1))
	must(t, z.PutStatus(ctx, CameraStatus{CameraID: "st2", Online: true, Server: "srv2", LastSeen: t0}))
	must(t, z.PutStatus(ctx, CameraStatus{CameraID: "st3", Online: true, Server: "srv1", LastSeen: t0}))
	s1.BitrateKbps = 4096
	must(t, z.PutStatus(ctx, s1)) // replace
	st, err = z.GetStatus(ctx, "st1")
	must(t, err)
	if !st.LastSeen.Equal(t0) {
		t.Fatalf("LastSeen = %v", st.LastSeen)
	}
	st.LastSeen = s1.LastSeen
	if st != s1 {
		t.Fatalf("GetStatus = %+v, want %+v", st, s1)
	}
	m, err := z.ListStatus(ctx, []string{"st1", "st2", "unknown"})
	must(t, err)
	if len(m) != 2 || m["st2"].Server != "srv2" || m["st1"].BitrateKbps != 4096 {
		t.Fatalf("ListStatus = %+v", m)
	}
	m, err = z.ListStatus(ctx, []string{})
	must(t, err)
	if len(m) != 0 {
		t.Fatalf("ListStatus(empty) = %+v", m)
	}
	must(t, z.SetOffline(ctx, "srv1"))
	m, err = z.ListStatus(ctx, nil)
	must(t, err)
	if m["st1"].Online || m["st3"].Online || !m["st2"].Online || m["st1"].Server != "srv1" {
		t.Fatalf("after SetOffline(srv1): %+v", m)
	}
	if m["st1"].OfflineReason != ReasonServerStopped || m["st1"].OfflineSince.IsZero() || m["st2"].OfflineReason != "" {
		t.Fatalf("after SetOffline(srv1), reasons: %+v", m)
	}
	testNoteOffline(t, z)
}

// testNoteOffline: a failed pull's reason is kept on an offline camera
// (with the time it first went offline) and on one never seen, and never
// written over an online camera.
func testNoteOffline(t *testing.T, z Zone) {
	ctx := ctxT(t)
	must(t, z.NoteOffline(ctx, "never", "connection refused", t0))
	must(t, z.NoteOffline(ctx, "never", "timeout", t0.Add(time.Minute)))
	st, err := z.GetStatus(ctx, "never")
	must(t, err)
	if st.Online || st.OfflineReason != "timeout" || !st.OfflineSince.Equal(t0) {
		t.Fatalf("never connected camera after two failures: %+v", st)
	}
	must(t, z.NoteOffline(ctx, "st2", "connection refused", t0)) // online on srv2
	st, err = z.GetStatus(ctx, "st2")
	must(t, err)
	if !st.Online || st.OfflineReason != "" || !st.OfflineSince.IsZero() {
		t.Fatalf("online camera after a failure report: %+v", st)
	}
	if err := z.NoteOffline(ctx, "never", strings.Repeat("x", 1000), t0); err == nil {
		t.Fatal("a 1000-byte reason was accepted")
	}
}

func testServers(t *testing.T, z Zone) {
	ctx := ctxT(t)
	must(t, z.Heartbeat(ctx, Server{ID: "srvA", Addr: "http://10.0.0.1:8080", Capacity: 100, Seen: t0}))
	must(t, z.Heartbeat(ctx, Server{ID: "srvB", Addr: "http://10.0.0.2:8080", Capacity: 50, Seen: t0.Add(-time.Minute)}))
	must(t, z.Heartbeat(ctx, Server{ID: "srvA", Addr: "http://10.0.0.1:8080", Capacity: 100, Seen: t0.Add(10 * time.Second), Draining: true}))
	list, err := z.ListServers(ctx, t0.Add(-30*time.Second))
	must(t, err)
	if len(list) != 1 || list[0].ID != "srvA" || !list[0].Draining || !list[0].Seen.Equal(t0.Add(10*time.Second)) || list[0].Capacity != 100 {
		t.Fatalf("ListServers = %+v", list)
	}
	list, _ = z.ListServers(ctx, time.Time{})
	if len(list) != 2 {
		t.Fatalf("ListServers(all) = %+v", list)
	}
	must(t, z.RemoveServer(ctx, "srvB"))
	must(t, z.RemoveServer(ctx, "srvB"))
	list, _ = z.ListServers(ctx, time.Time{})
	if len(list) != 1 || list[0].ID != "srvA" {
		t.Fatalf("after RemoveServer = %+v", list)
	}
}

func testLeases(t *testing.T, z Zone) {
	ctx := ctxT(t)
	ttl := 30 * time.Second
	claim := func(cam, srv string, at time.Time, want bool) {
		t.Helper()
		got, err := z.ClaimLease(ctx, cam, srv, ttl, at)
		must(t, err)
		if got != want {
			t.Fatalf("ClaimLease(%s, %s, +%s) = %v, want %v", cam, srv, at.Sub(t0), got, want)
		}
	}
	claim("lc1", "A", t0, true)                      // free
	claim("lc1", "B", t0.Add(time.Second), false)    // A holds it
	claim("lc1", "A", t0.Add(10*time.Second), true)  // renew: now until +40s
	claim("lc1", "A", t0.Add(10*time.Second), true)  // renewing with the same values
	claim("lc1", "B", t0.Add(35*time.Second), false) // still A's
	claim("lc1", "B", t0.Add(40*time.Second), true)  // expired: taken over
	claim("lc1", "A", t0.Add(41*time.Second), false) // now B's
	claim("lc2", "A", t0, true)
	claim("lc3", "A", t0, true)

	leases, err := z.ListLeases(ctx, "A")
	must(t, err)
	if len(leases) != 2 || leases[0].CameraID != "lc2" || leases[1].CameraID != "lc3" || !leases[0].Expires.Equal(t0.Add(ttl)) {
		t.Fatalf("ListLeases(A) = %+v", leases)
	}
	all, _ := z.ListLeases(ctx, "")
	if len(all) != 3 || all[0].ServerID != "B" {
		t.Fatalf("ListLeases(all) = %+v", all)
	}
	must(t, z.ReleaseLeases(ctx, "B"))
	claim("lc1", "A", t0.Add(42*time.Second), true) // free again
	if _, err := z.ClaimLease(ctx, "lc9", "A", 0, t0); err == nil {
		t.Fatal("ClaimLease with ttl 0 succeeded")
	}
}

// testLeaseContention has servers on two separate connection pools (as two
// processes would) claim the same cameras at once: each camera gets exactly
// one holder.
func testLeaseContention(t *testing.T, z1, z2 Zone) {
	ctx := ctxT(t)
	now := t0.Add(time.Hour)
	const cameras, servers = 8, 6
	var mu sync.Mutex
	held := map[string][]string{}
	var wg sync.WaitGroup
	errs := make(chan error, cameras*servers)
	for s := 0; s < servers; s++ {
		z := z1
		if s%2 == 1 {
			z = z2
		}
		srv := fmt.Sprintf("srv%d", s)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := 0; c < cameras; c++ {
				cam := fmt.Sprintf("race%d", c)
				ok, err := z.ClaimLease(ctx, cam, srv, time.Minute, now)
				if err != nil {
					errs <- err
					return
				}
				if ok {
					mu.Lock()
					held[cam] = append(held[cam], srv)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("ClaimLease: %v", err)
	}
	for c := 0; c < cameras; c++ {
		cam := fmt.Sprintf("race%d", c)
		if len(held[cam]) != 1 {
			t.Errorf("camera %s held by %v, want exactly one server", cam, held[cam])
		}
	}
	// After expiry, exactly one of two contenders takes over.
	later := now.Add(2 * time.Minute)
	var wins sync.WaitGroup
	results := make([]bool, 2)
	for i, z := range []Zone{z1, z2} {
		wins.Add(1)
		go func() {
			defer wins.Done()
			ok, err := z.ClaimLease(ctx, "race0", fmt.Sprintf("late%d", i), time.Minute, later)
			if err != nil {
				t.Error(err)
			}
			results[i] = ok
		}()
	}
	wins.Wait()
	if results[0] == results[1] {
		t.Fatalf("expiry takeover: both got %v, want exactly one winner", results[0])
	}
}

func testZoneValidation(t *testing.T, z Zone) {
	ctx := ctxT(t)
	good := seg("valid", t0, 0, 60)
	long := seg("valid", t0, 0, int((MaxSegmentDuration + time.Second).Seconds()))
	back := good
	back.End = good.Start.Add(-time.Second)
	noKey := good
	noKey.Key = ""
	negFrag := good
	negFrag.Fragments = []Fragment{{Offset: -1, Size: 10}}
	longID := good
	longID.CameraID = strings.Repeat("c", maxID+1)
	for name, s := range map[string]Segment{"too long": long, "end before start": back, "no key": noKey, "negative fragment": negFrag, "long camera id": longID} {
		if err := z.InsertSegment(ctx, s); err == nil || errors.Is(err, ErrConflict) {
			t.Errorf("InsertSegment(%s) error = %v, want a validation error", name, err)
		}
	}
	if err := z.PutStatus(ctx, CameraStatus{}); err == nil {
		t.Error("PutStatus without camera id succeeded")
	}
	if err := z.Heartbeat(ctx, Server{}); err == nil {
		t.Error("Heartbeat without server id succeeded")
	}
	if _, err := z.ListStatus(ctx, make([]string, maxInList+1)); err == nil {
		t.Error("ListStatus with too many ids succeeded")
	}
	// Nothing was stored by the rejected calls.
	if segs, _ := z.ListSegments(ctx, "valid", t0.Add(-time.Hour), t0.Add(5*time.Hour), 0); len(segs) != 0 {
		t.Errorf("rejected segments were stored: %d", len(segs))
	}
}
