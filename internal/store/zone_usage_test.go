package store

import (
	"testing"
	"time"
)

// TestZoneUsage: flushes add counters per organisation, camera and day,
// move each camera's stored total, and give every camera with a known
// organisation its stored bytes on every day a flush ran, also when
// nothing of it changed that day; reports read one organisation's days.
func TestZoneUsage(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		z := openZone(t, dsn)
		ctx := ctxT(t)
		d1 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		d2 := d1.AddDate(0, 0, 1)
		var c UsageCounts
		c[UsageEgressVOD], c[UsageRecordedMs] = 100, 60000
		must(t, z.AddUsage(ctx, d1, []UsageDelta{
			{OrgID: "o1", CameraID: "u-c1", Counts: c, StoredDelta: 5000},
			{OrgID: "o2", CameraID: "u-c2", Counts: c},
			{CameraID: "u-c3", StoredDelta: 700}, // organisation not known yet
		}))
		must(t, z.AddUsage(ctx, d1, []UsageDelta{{OrgID: "o1", CameraID: "u-c1", Counts: c, StoredDelta: -1000}}))
		// Day 2: camera 1 changes nothing; camera 3's organisation is named.
		must(t, z.AddUsage(ctx, d2, []UsageDelta{{OrgID: "o1", CameraID: "u-c3", StoredDelta: 300}}))

		var got []UsageRow
		must(t, z.ScanUsage(ctx, "o1", d1, d2.AddDate(0, 0, 1), func(u UsageRow) error { got = append(got, u); return nil }))
		type key struct {
			day time.Time
			cam string
		}
		rows := map[key]UsageRow{}
		for _, u := range got {
			if u.OrgID != "o1" {
				t.Fatalf("another organisation's row: %+v", u)
			}
			rows[key{u.Day, u.CameraID}] = u
		}
		if len(rows) != 3 {
			t.Fatalf("rows: %+v", got)
		}
		r1 := rows[key{d1, "u-c1"}]
		if r1.Counts[UsageEgressVOD] != 200 || r1.Counts[UsageRecordedMs] != 120000 || r1.StoredBytes != 4000 {
			t.Errorf("day 1 camera 1: %+v", r1)
		}
		if r := rows[key{d2, "u-c1"}]; r.StoredBytes != 4000 || r.Counts != (UsageCounts{}) {
			t.Errorf("day 2 camera 1 (unchanged): %+v", r)
		}
		if r := rows[key{d2, "u-c3"}]; r.StoredBytes != 1000 {
			t.Errorf("day 2 camera 3: %+v", r)
		}
		if n, _ := z.StoredBytes(ctx, "u-c3"); n != 1000 {
			t.Errorf("stored total of camera 3: %d", n)
		}
		got = nil
		must(t, z.ScanUsage(ctx, "o2", d2, d2.AddDate(0, 0, 1), func(u UsageRow) error { got = append(got, u); return nil }))
		if len(got) != 0 {
			t.Errorf("o2 on day 2 (nothing stored): %+v", got)
		}
		if err := z.AddUsage(ctx, d1, []UsageDelta{{OrgID: "o1", CameraID: ""}}); err == nil {
			t.Error("a delta without a camera was stored")
		}
	})
}
