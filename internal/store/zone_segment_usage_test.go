package store

import (
	"testing"
	"time"
)

// testSegmentUsage checks that a camera's use follows its segment rows: inserts
// add, a re-insert of the same start replaces, deletes subtract, and other
// cameras are not touched.
func testSegmentUsage(t *testing.T, z Zone) {
	ctx := ctxT(t)
	base := t0.Add(96 * time.Hour)
	want := func(id string, bytes, n int64) {
		t.Helper()
		m, err := z.CameraUsage(ctx, []string{id, "use-none"})
		must(t, err)
		if got := m[id]; got != (SegmentUsage{Bytes: bytes, Segments: n}) {
			t.Fatalf("usage of %s = %+v, want %d bytes in %d segments", id, got, bytes, n)
		}
		if _, ok := m["use-none"]; ok {
			t.Fatalf("a camera without recordings has a use: %+v", m)
		}
	}
	insertAll(t, z, seg("use1", base, 0, 60), seg("use1", base, 60, 120), seg("use2", base, 0, 10))
	want("use1", 120_000, 2)
	want("use2", 10_000, 1)
	again := seg("use1", base, 60, 120)
	again.Size = 5
	insertAll(t, z, again) // a retried upload replaces the row
	want("use1", 60_005, 2)
	must(t, z.DeleteSegments(ctx, "use1", []time.Time{base, base.Add(time.Hour)})) // one missing
	want("use1", 5, 1)
	want("use2", 10_000, 1)
	must(t, z.DeleteSegments(ctx, "use1", []time.Time{base.Add(60 * time.Second)}))
	m, err := z.CameraUsage(ctx, []string{"use1"})
	must(t, err)
	if len(m) != 0 {
		t.Fatalf("usage after every segment went = %+v", m)
	}
}

// TestSegmentUsageBackfill: a zone DB that has segments from before zone
// migration 5 gets its per-camera use filled by the migration.
func TestSegmentUsageBackfill(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		ctx := ctxT(t)
		b := zoneBefore(t, dsn, zoneMigrationSegmentUsage.version, "pre")
		must(t, b.db.Close())
		z := openZone(t, dsn)
		m, err := z.CameraUsage(ctx, []string{"pre"})
		must(t, err)
		if m["pre"] != (SegmentUsage{Bytes: 350, Segments: 2}) {
			t.Fatalf("use after the upgrade = %+v", m)
		}
	})
}

// zoneBefore opens dsn with the zone migrations before version only, and
// writes two segments of cam (100 and 250 bytes) straight into its index.
func zoneBefore(t *testing.T, dsn string, version int, cam string) *base {
	t.Helper()
	ctx := ctxT(t)
	var old []migration
	for _, m := range zoneMigrations {
		if m.version < version {
			old = append(old, m)
		}
	}
	b, err := open(ctx, dsn, "zone", old, testLog())
	must(t, err)
	for i, size := range []int64{100, 250} {
		_, err := b.db.ExecContext(ctx, "INSERT INTO segments (camera_id, start_us, end_us, size, obj_key, init_key, codec) VALUES (?, ?, ?, ?, ?, '', '')",
			cam, int64(i+1)*1_000_000, int64(i+2)*1_000_000, size, "k"+string(rune('a'+i)))
		must(t, err)
	}
	return b
}
