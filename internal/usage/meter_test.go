package usage_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/config"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/usage"
	"github.com/camcloud/camcloud/internal/zone"
)

func openZones(t *testing.T) *zone.Registry {
	dir := t.TempDir()
	r, err := zone.Open(context.Background(), []config.Zone{{Name: "z1", DB: "sqlite:" + filepath.Join(dir, "z1.db"),
		Store: config.Store{Type: "local", Dir: filepath.Join(dir, "blobs")}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

func rows(t *testing.T, z *zone.Registry, org string, day time.Time) map[string]store.UsageRow {
	zz, _ := z.Get("z1")
	out := map[string]store.UsageRow{}
	if err := zz.DB.ScanUsage(context.Background(), org, day, day.AddDate(0, 0, 1), func(u store.UsageRow) error {
		out[u.CameraID] = u
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMeterFlush: counts added from many goroutines while flushes run are
// all written, once; a camera counted without its organisation gets it
// from OrgOf; a deleted camera's counts are dropped but its stored bytes
// still move; a flush just after midnight goes to the day before; a
// flush that the lookup fails keeps the counts for the next one.
func TestMeterFlush(t *testing.T) {
	zones := openZones(t)
	m := usage.NewMeter()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var lookupErr error
	f := &usage.Flusher{Meter: m, Zones: zones, Now: func() time.Time { return now },
		OrgOf: func(_ context.Context, id string) (string, error) {
			switch {
			case lookupErr != nil:
				return "", lookupErr
			case id == "gone":
				return "", store.ErrNotFound
			}
			return "o1", nil
		}}
	ctx := context.Background()

	var wg sync.WaitGroup
	const writers, adds = 8, 2000
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := m.Camera("z1", "o1", "c1")
			for range adds {
				c.Add(usage.EgressVOD, 3)
				if i == 0 {
					m.Add("z1", "", "c2", usage.Events, 1)
				}
			}
		}()
	}
	stop := make(chan struct{})
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		for {
			select {
			case <-stop:
				return
			default:
				f.Flush(ctx)
			}
		}
	}()
	wg.Wait()
	close(stop)
	<-flushed
	f.Flush(ctx)
	got := rows(t, zones, "o1", usage.Day(now))
	if v := got["c1"].Counts[store.UsageEgressVOD]; v != writers*adds*3 {
		t.Errorf("c1 egress %d, want %d", v, writers*adds*3)
	}
	if v := got["c2"].Counts[store.UsageEvents]; v != adds {
		t.Errorf("c2 events %d, want %d (organisation from OrgOf)", v, adds)
	}

	// A deleted camera: counts dropped.
	m.Add("z1", "", "gone", usage.EgressVOD, 100)
	f.Flush(ctx)
	if tot := m.Totals(); tot[usage.EgressVOD] != 0 {
		t.Errorf("counts of a deleted camera kept: %v", tot)
	}

	// The lookup fails: kept for the next flush.
	lookupErr = errors.New("directory down")
	m.Add("z1", "", "c3", usage.EgressClip, 40)
	f.Flush(ctx)
	if tot := m.Totals(); tot[usage.EgressClip] != 40 {
		t.Errorf("counts after a failed lookup: %v", tot)
	}
	lookupErr = nil

	// Just after midnight: the day before.
	now = time.Date(2026, 3, 2, 0, 0, 0, int(500*time.Microsecond), time.UTC)
	// c1 records a segment of 1000 bytes (its organisation was noted at
	// an earlier flush, before it had any).
	zz, _ := zones.Get("z1")
	seg := store.Segment{CameraID: "c1", Start: now.Add(-time.Hour), End: now.Add(-time.Hour + 4*time.Second), Size: 1000, Key: "cam/c1/1.m4s", InitKey: "cam/c1/init.mp4", Codec: "avc1.64001f"}
	if err := zz.DB.InsertSegment(ctx, seg); err != nil {
		t.Fatal(err)
	}
	f.Flush(ctx)
	got = rows(t, zones, "o1", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	if got["c3"].Counts[store.UsageEgressClip] != 40 || got["c1"].StoredBytes != 1000 {
		t.Errorf("flush at 00:00:00.0005 wrote %+v to 1 March", got)
	}
	now = now.Add(time.Minute)
	f.Flush(ctx)
	if got := rows(t, zones, "o1", usage.Day(now)); got["c1"].StoredBytes != 1000 || got["c1"].Counts != (store.UsageCounts{}) {
		t.Errorf("2 March: %+v (stored bytes carried, nothing counted)", got)
	}
	if tot := m.Totals(); tot != [len(tot)]int64{} {
		t.Errorf("left after the flushes: %v", tot)
	}

	// Metering off: a nil meter counts nothing and never fails.
	var off *usage.Meter
	off.Add("z1", "o1", "c1", usage.EgressVOD, 1)
	off.Camera("z1", "o1", "c1").Add(usage.EgressVOD, 1)
}

// TestRecordAndRetentionHooks: a segment indexed through the metered
// index counts its duration, and its size is the camera's stored bytes
// of the day (from the index's segment_usage) until retention deletes it;
// nil meters leave the index as is.
func TestRecordAndRetentionHooks(t *testing.T) {
	zones := openZones(t)
	z, _ := zones.Get("z1")
	m := usage.NewMeter()
	f := &usage.Flusher{Meter: m, Zones: zones, OrgOf: func(context.Context, string) (string, error) { return "o1", nil }}
	ctx := context.Background()
	start := time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
	seg := store.Segment{CameraID: "c1", Start: start, End: start.Add(4 * time.Second), Size: 250_000, Key: "cam/c1/1.m4s", InitKey: "cam/c1/init.mp4", Codec: "avc1.64001f"}
	if err := usage.RecordIndex(m, "z1", z.DB).InsertSegment(ctx, seg); err != nil {
		t.Fatal(err)
	}
	f.Flush(ctx)
	got := rows(t, zones, "o1", usage.Day(time.Now()))["c1"]
	if got.StoredBytes != 250_000 || got.Counts[store.UsageRecordedMs] != 4000 {
		t.Errorf("after indexing: %+v", got)
	}
	if segs, _ := z.DB.ListSegments(ctx, "c1", start, start.Add(time.Minute), 10); len(segs) != 1 {
		t.Fatalf("the row was not written through: %v", segs)
	}
	// Retention deletes it (the index row, then the hook).
	if err := z.DB.DeleteSegments(ctx, "c1", []time.Time{seg.Start}); err != nil {
		t.Fatal(err)
	}
	usage.DeletedSegments(m, "z1")("c1", []store.Segment{seg})
	f.Flush(ctx)
	if got := rows(t, zones, "o1", usage.Day(time.Now()))["c1"]; got.StoredBytes != 0 {
		t.Errorf("after the retention delete: stored %d", got.StoredBytes)
	}
	if usage.RecordIndex(nil, "z1", z.DB) != z.DB || usage.DeletedSegments(nil, "z1") != nil {
		t.Error("metering off still wraps")
	}
}
