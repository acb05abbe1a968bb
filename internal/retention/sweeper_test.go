package retention

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/store"
)

type fixture struct {
	dir   store.Directory
	zone  store.Zone
	blobs *blob.Local
	now   time.Time
	name  string // the zone's name
}

// setup is a fixture on SQLite with one zone, "local".
func setup(t *testing.T) *fixture {
	t.Helper()
	d := t.TempDir()
	return setupOn(t, "sqlite:"+filepath.Join(d, "dir.db"), nil, "local", "sqlite:"+filepath.Join(d, "zone.db"))
}

// setupOn opens the directory at dirDSN (or uses dir, when set, with its
// organisation o1 made already) and zone name at zoneDSN, with a store
// of its own.
func setupOn(t *testing.T, dirDSN string, dir store.Directory, name, zoneDSN string) *fixture {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var err error
	if dir == nil {
		if dir, err = store.OpenDirectory(ctx, dirDSN, log); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = dir.Close() })
		if err := dir.CreateOrg(ctx, store.Org{ID: "o1", Name: "o", CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	z, err := store.OpenZone(ctx, zoneDSN, log)
	if err != nil {
		t.Fatal(err)
	}
	b, err := blob.NewLocal(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = z.Close() })
	return &fixture{dir: dir, zone: z, blobs: b, now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), name: name}
}

func (f *fixture) camera(t *testing.T, id string, days int) { f.cameraOf(t, "o1", id, days) }

// cameraOf adds a camera of org in the fixture's zone.
func (f *fixture) cameraOf(t *testing.T, org, id string, days int) {
	t.Helper()
	c := store.Camera{ID: id, OrgID: org, Name: id, Zone: f.name, SourceType: "push", RetentionDays: days, Recording: "continuous", IngestSecretHash: "x", CreatedAt: f.now}
	if err := f.dir.CreateCamera(context.Background(), c); err != nil {
		t.Fatal(err)
	}
}

// segment writes an object and its index row, ending age ago.
func (f *fixture) segment(t *testing.T, cam string, age time.Duration) store.Segment {
	t.Helper()
	ctx := context.Background()
	end := f.now.Add(-age)
	start := end.Add(-time.Minute)
	key := fmt.Sprintf("cam/%s/%d.m4s", cam, start.UnixMicro())
	body := strings.Repeat("x", 1000)
	if err := f.blobs.Put(ctx, key, strings.NewReader(body), int64(len(body))); err != nil {
		t.Fatal(err)
	}
	sg := store.Segment{CameraID: cam, Start: start, End: end, Size: 1000, Key: key, InitKey: "cam/" + cam + "/init/a.mp4"}
	if err := f.zone.InsertSegment(ctx, sg); err != nil {
		t.Fatal(err)
	}
	return sg
}

func (f *fixture) exists(t *testing.T, sg store.Segment) (obj, row bool) {
	t.Helper()
	ctx := context.Background()
	_, err := f.blobs.Stat(ctx, sg.Key)
	obj = err == nil
	rows, err := f.zone.ListSegments(ctx, sg.CameraID, sg.Start, sg.End, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Start.Equal(sg.Start) {
			row = true
		}
	}
	return obj, row
}

// TestExpiresExactlyTheOldOnes: a 1-day camera loses what ended more than a
// day ago, in the store and the index; newer recordings and other cameras'
// stay; a deleted camera's recordings all go.
func TestExpiresExactlyTheOldOnes(t *testing.T) {
	f := setup(t)
	f.camera(t, "short", 1)
	f.camera(t, "long", 30)
	var old, keep []store.Segment
	for i := 0; i < 7; i++ { // more than one batch
		old = append(old, f.segment(t, "short", 25*time.Hour+time.Duration(i)*2*time.Minute))
	}
	keep = append(keep, f.segment(t, "short", 23*time.Hour), f.segment(t, "short", time.Minute))
	keep = append(keep, f.segment(t, "long", 25*time.Hour), f.segment(t, "long", 29*24*time.Hour))
	old = append(old, f.segment(t, "long", 31*24*time.Hour))
	gone := f.segment(t, "deleted-camera", time.Hour)
	old = append(old, gone)

	s := New(Config{Zone: "local", Dir: f.dir, Index: f.zone, Blobs: f.blobs, Batch: 3, Now: func() time.Time { return f.now },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	res, err := s.Sweep(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Expired != len(old) {
		t.Fatalf("expired %d, want %d", res.Expired, len(old))
	}
	for _, sg := range old {
		if obj, row := f.exists(t, sg); obj || row {
			t.Errorf("%s: still there (object %v, row %v)", sg.Key, obj, row)
		}
	}
	for _, sg := range keep {
		if obj, row := f.exists(t, sg); !obj || !row {
			t.Errorf("%s: deleted too early (object %v, row %v)", sg.Key, obj, row)
		}
	}
	// A second pass finds nothing more.
	if res, _ := s.Sweep(context.Background()); res.Expired != 0 {
		t.Fatalf("second sweep expired %d", res.Expired)
	}
}

// lowDisk is a real local store that reports little free space until
// enough bytes were deleted, to test the disk protection path.
type lowDisk struct {
	*blob.Local
	free    *int64
	deleted int64
}

func (l *lowDisk) FreeBytes() (uint64, error) { return uint64(*l.free + l.deleted), nil }

func (l *lowDisk) Delete(ctx context.Context, keys ...string) error {
	for _, k := range keys {
		if n, err := l.Stat(ctx, k); err == nil {
			l.deleted += n
		}
	}
	return l.Local.Delete(ctx, keys...)
}

// TestDiskPressureDeletesOldestFirst: below min_free_bytes, the zone's
// oldest recordings go first, across cameras, until space is back.
func TestDiskPressureDeletesOldestFirst(t *testing.T) {
	f := setup(t)
	f.camera(t, "a", 30)
	f.camera(t, "b", 30)
	oldest := []store.Segment{f.segment(t, "a", 10*time.Hour), f.segment(t, "b", 9*time.Hour)}
	newer := []store.Segment{f.segment(t, "a", 2*time.Hour), f.segment(t, "b", time.Hour)}
	free := int64(0)
	ld := &lowDisk{Local: f.blobs, free: &free}
	told := map[string]int{}
	s := New(Config{Zone: "local", Dir: f.dir, Index: f.zone, Blobs: ld, MinFreeBytes: 2000, Batch: 1, Now: func() time.Time { return f.now },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), OnDiskPressure: func(cam string, n int, from, to time.Time) {
			if !from.Before(to) {
				t.Errorf("early delete of %s told %s..%s", cam, from, to)
			}
			told[cam] += n
		}})
	res, err := s.Sweep(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.DiskPressure != 2 {
		t.Fatalf("deleted %d for disk pressure, want 2", res.DiskPressure)
	}
	if told["a"] != 1 || told["b"] != 1 {
		t.Errorf("early deletes told: %v", told)
	}
	for _, sg := range oldest {
		if obj, row := f.exists(t, sg); obj || row {
			t.Errorf("oldest %s kept", sg.Key)
		}
	}
	for _, sg := range newer {
		if obj, row := f.exists(t, sg); !obj || !row {
			t.Errorf("newer %s deleted while older ones were enough", sg.Key)
		}
	}
}

// TestExpiresEvents: a camera's events go with its retention, and those
// of deleted cameras go entirely.
func TestExpiresEvents(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.camera(t, "keep", 2)
	ev := func(id, cam string, age time.Duration) {
		t.Helper()
		_, err := f.zone.InsertEvent(ctx, store.Event{ID: id, CameraID: cam, OrgID: "o1", Type: "custom", Start: f.now.Add(-age), Source: "system"})
		if err != nil {
			t.Fatal(err)
		}
	}
	ev("old", "keep", 3*24*time.Hour)
	ev("new", "keep", 24*time.Hour)
	ev("gone", "deleted", time.Hour)
	s := New(Config{Zone: "local", Dir: f.dir, Index: f.zone, Blobs: f.blobs, Now: func() time.Time { return f.now },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if _, err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{"old": false, "new": true, "gone": false} {
		_, err := f.zone.GetEvent(ctx, id)
		if got := err == nil; got != want {
			t.Errorf("event %s kept %v, want %v (%v)", id, got, want, err)
		}
	}
}
