package retention

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/testenv"
)

// engines runs fn on SQLite and on MySQL (testenv.MySQLDatabases: skipped
// without a server, failed in strict mode); dsns gives n database DSNs of
// the engine, the first for the directory.
func engines(t *testing.T, n int, fn func(t *testing.T, dsns []string)) {
	t.Run("sqlite", func(t *testing.T) {
		d := t.TempDir()
		var dsns []string
		for i := range n {
			dsns = append(dsns, "sqlite:"+filepath.Join(d, string(rune('a'+i))+".db"))
		}
		fn(t, dsns)
	})
	t.Run("mysql", func(t *testing.T) {
		names := make([]string, n)
		for i := range names {
			names[i] = "ret" + string(rune('a'+i))
		}
		fn(t, testenv.MySQLDatabases(t, names...))
	})
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// hold places a hold on cam over [from, to) in the fixture's directory.
func (f *fixture) hold(t *testing.T, id, cam string, from, to time.Time) {
	t.Helper()
	if err := f.dir.CreateHold(context.Background(), store.Hold{ID: id, OrgID: "o1", CameraID: cam, From: from, To: to, Reason: "incident", CreatedAt: f.now}); err != nil {
		t.Fatal(err)
	}
}

// TestHoldKeepsRangePastRetention: a 1-day retention sweep over
// recordings backdated by days deletes everything but what the hold
// covers, the disk guard under pressure leaves it too, and once the hold
// is released the next sweep deletes it.
func TestHoldKeepsRangePastRetention(t *testing.T) {
	engines(t, 2, func(t *testing.T, dsns []string) {
		f := setupOn(t, dsns[0], nil, "local", dsns[1])
		ctx := context.Background()
		f.camera(t, "cam", 1)
		f.camera(t, "other", 1)
		var segs []store.Segment
		for i := range 30 { // three days ago, a minute each, oldest first
			segs = append(segs, f.segment(t, "cam", 72*time.Hour-time.Duration(i)*time.Minute))
		}
		otherSeg := f.segment(t, "other", 50*time.Hour)
		// The hold starts inside segment 10 and ends inside segment 14.
		f.hold(t, "h1", "cam", segs[10].Start.Add(10*time.Second), segs[14].End.Add(-10*time.Second))

		s := New(Config{Zone: "local", Dir: f.dir, Index: f.zone, Blobs: f.blobs, Batch: 4, Now: func() time.Time { return f.now }, Log: quiet()})
		res, err := s.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.Expired != 26 { // 25 of cam and the other camera's one
			t.Fatalf("expired %d, want 26", res.Expired)
		}
		for i, sg := range segs {
			obj, row := f.exists(t, sg)
			if held := i >= 10 && i <= 14; held != obj || held != row {
				t.Errorf("segment %d (held %v): object %v, row %v", i, held, obj, row)
			}
		}
		if obj, row := f.exists(t, otherSeg); obj || row {
			t.Error("a camera without holds kept an expired recording")
		}

		// The disk guard, with no room ever enough, deletes none of them.
		free := int64(0)
		ld := &lowDisk{Local: f.blobs, free: &free}
		guard := New(Config{Zone: "local", Dir: f.dir, Index: f.zone, Blobs: ld, MinFreeBytes: 1 << 40, Batch: 2, Now: func() time.Time { return f.now }, Log: quiet()})
		res, err = guard.Sweep(ctx)
		if err != nil || res.DiskPressure != 0 || res.Expired != 0 {
			t.Fatalf("disk guard sweep: %+v, %v", res, err)
		}
		for _, sg := range segs[10:15] {
			if obj, row := f.exists(t, sg); !obj || !row {
				t.Errorf("the disk guard deleted held %s", sg.Key)
			}
		}

		if _, err := f.dir.DeleteHold(ctx, "cam", "h1"); err != nil {
			t.Fatal(err)
		}
		res, err = s.Sweep(ctx)
		if err != nil || res.Expired != 5 {
			t.Fatalf("sweep after release: %+v, %v", res, err)
		}
		for _, sg := range segs {
			if obj, row := f.exists(t, sg); obj || row {
				t.Errorf("%s kept after the hold was released", sg.Key)
			}
		}
	})
}

// TestQuotaDeletesOldestOfItsOrganisation: an organisation over its
// quota loses its oldest unheld recordings, first in one zone and then
// across two zones; the held recording and another organisation are
// untouched.
func TestQuotaDeletesOldestOfItsOrganisation(t *testing.T) {
	engines(t, 3, func(t *testing.T, dsns []string) {
		ctx := context.Background()
		a := setupOn(t, dsns[0], nil, "za", dsns[1])
		b := setupOn(t, "", a.dir, "zb", dsns[2])
		if err := a.dir.CreateOrg(ctx, store.Org{ID: "o2", Name: "other", CreatedAt: a.now}); err != nil {
			t.Fatal(err)
		}
		a.camera(t, "a1", 30)
		a.camera(t, "a2", 30)
		a.cameraOf(t, "o2", "x", 30)
		var a1, a2, x []store.Segment
		for i := range 10 { // 1000 bytes each, a1 older than a2
			a1 = append(a1, a.segment(t, "a1", 200*time.Minute-time.Duration(i)*2*time.Minute))
			a2 = append(a2, a.segment(t, "a2", 199*time.Minute-time.Duration(i)*2*time.Minute))
			x = append(x, a.segment(t, "x", 300*time.Minute-time.Duration(i)*time.Minute))
		}
		// a1's third oldest is held.
		a.hold(t, "h", "a1", a1[2].Start, a1[2].End)
		if _, err := a.dir.SetOrgQuota(ctx, "o1", 12_000); err != nil {
			t.Fatal(err)
		}
		sa := New(Config{Zone: "za", Dir: a.dir, Index: a.zone, Blobs: a.blobs, Batch: 3, Now: func() time.Time { return a.now }, Log: quiet()})
		res, err := sa.Sweep(ctx)
		if err != nil || res.Quota != 8 {
			t.Fatalf("sweep: %+v, %v; want 8 deleted for the quota", res, err)
		}
		// Oldest first across a1 and a2, skipping the held one: a1[0],
		// a2[0], a1[1], a2[1], (a1[2] held), a2[2], a1[3], a2[3], a1[4].
		gone := map[string]bool{}
		for _, sg := range []store.Segment{a1[0], a2[0], a1[1], a2[1], a2[2], a1[3], a2[3], a1[4]} {
			gone[sg.Key] = true
		}
		for _, sg := range append(append([]store.Segment{}, a1...), a2...) {
			if obj, row := a.exists(t, sg); obj == gone[sg.Key] || row == gone[sg.Key] {
				t.Errorf("%s: object %v, row %v, want deleted %v", sg.Key, obj, row, gone[sg.Key])
			}
		}
		for _, sg := range x {
			if obj, row := a.exists(t, sg); !obj || !row {
				t.Errorf("another organisation's %s was deleted", sg.Key)
			}
		}
		st, err := a.dir.ListOrgStorage(ctx, "o1")
		if err != nil || len(st) != 1 || st[0].Bytes != 12_000 || st[0].Zone != "za" || !st[0].Oldest.Equal(a2[4].End) {
			t.Fatalf("storage of o1 = %+v, %v (a2[4] ends %v)", st, err, a2[4].End)
		}

		// A camera of o1 in a second zone, with older recordings: that
		// zone's pass deletes its oldest, and the two zones together come
		// down to the quota.
		b.camera(t, "b1", 30)
		var b1 []store.Segment
		for i := range 6 {
			b1 = append(b1, b.segment(t, "b1", 400*time.Minute-time.Duration(i)*time.Minute))
		}
		defer func() {
			for _, sg := range b1 {
				if obj, row := b.exists(t, sg); obj || row {
					t.Errorf("zone b's old %s kept", sg.Key)
				}
			}
		}()
		sb := New(Config{Zone: "zb", Dir: b.dir, Index: b.zone, Blobs: b.blobs, Batch: 3, Now: func() time.Time { return b.now }, Log: quiet()})
		if res, err := sb.Sweep(ctx); err != nil || res.Quota != 6 {
			t.Fatalf("zone b sweep: %+v, %v; want its 6 (older than all of zone a) deleted", res, err)
		}
		for i := range 4 {
			b.segment(t, "b1", time.Duration(i)*time.Minute) // new recordings in zone b
		}
		for range 2 {
			if _, err := sb.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := sa.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
		}
		var total int64
		st, _ = a.dir.ListOrgStorage(ctx, "o1")
		for _, r := range st {
			total += r.Bytes
		}
		if total > 12_000 || total < 11_000 {
			t.Fatalf("o1 uses %d bytes over two zones, quota 12000: %+v", total, st)
		}
		if obj, row := a.exists(t, a1[2]); !obj || !row {
			t.Error("the held recording was deleted for the quota")
		}
		for _, sg := range x {
			if obj, row := a.exists(t, sg); !obj || !row {
				t.Errorf("another organisation's %s was deleted", sg.Key)
			}
		}
	})
}
