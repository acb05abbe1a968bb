package store

import (
	"testing"
	"time"
)

// testUsage checks that a camera's use follows its segment rows: inserts
// add, a re-insert of the same start replaces, deletes subtract, and other
// cameras are not touched.
func testUsage(t *testing.T, z Zone) {
	ctx := ctxT(t)
	base := t0.Add(96 * time.Hour)
	want := func(id string, bytes, n int64) {
		t.Helper()
		m, err := z.CameraUsage(ctx, []string{id, "use-none"})
		must(t, err)
		if got := m[id]; got != (Usage{Bytes: bytes, Segments: n}) {
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
