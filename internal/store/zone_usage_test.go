package store

import (
	"fmt"
	"testing"
	"time"
)

// TestZoneUsage: flushes add counters per organisation, camera and day,
// note each camera's organisation beside its stored bytes (segment_usage,
// kept by the index), and give every camera with a known organisation
// its stored bytes on every day a flush ran, also when nothing of it
// changed that day; reports read one organisation's days.
func TestZoneUsage(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		z := openZone(t, dsn)
		ctx := ctxT(t)
		d1 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		d2 := d1.AddDate(0, 0, 1)
		seg := func(cam string, n int, size int64) Segment {
			s := d1.Add(time.Duration(n) * time.Minute)
			return Segment{CameraID: cam, Start: s, End: s.Add(time.Minute), Size: size, Key: fmt.Sprintf("cam/%s/%d.m4s", cam, n), InitKey: "init", Codec: "avc1"}
		}
		var c UsageCounts
		c[UsageEgressVOD], c[UsageRecordedMs] = 100, 60000
		// Camera 1's organisation is known before its first segment.
		must(t, z.AddUsage(ctx, d1, []UsageDelta{{OrgID: "o1", CameraID: "u-c1", Counts: c}, {OrgID: "o2", CameraID: "u-c2", Counts: c}}))
		must(t, z.InsertSegment(ctx, seg("u-c1", 0, 1000)))
		must(t, z.InsertSegment(ctx, seg("u-c1", 1, 4000)))
		must(t, z.InsertSegment(ctx, seg("u-c3", 0, 1000))) // organisation not known yet
		must(t, z.DeleteSegments(ctx, "u-c1", []time.Time{d1}))
		must(t, z.AddUsage(ctx, d1, []UsageDelta{{OrgID: "o1", CameraID: "u-c1", Counts: c}, {CameraID: "u-c3", Counts: c}}))
		// Day 2: camera 1 changes nothing; camera 3's organisation is named.
		must(t, z.AddUsage(ctx, d2, []UsageDelta{{OrgID: "o1", CameraID: "u-c3"}}))

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
		if u, _ := z.CameraUsage(ctx, []string{"u-c1", "u-c3"}); u["u-c1"] != (SegmentUsage{4000, 1}) || u["u-c3"] != (SegmentUsage{1000, 1}) {
			t.Errorf("segment use: %+v", u)
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

// TestStoredBytesMigration: a zone DB from before zone migration 10, whose
// usage_storage knows the cameras' organisations, gets them into
// segment_usage, so that the first flush after the upgrade gives each
// camera its stored bytes (from the index, not from the old running total,
// which had drifted) without any count of it.
func TestStoredBytesMigration(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		ctx := ctxT(t)
		b := zoneBefore(t, dsn, zoneMigrationStoredBytes.version, "m-c1")
		// What migration 5's table had from the index writes of those.
		_, err := b.db.ExecContext(ctx, "INSERT INTO segment_usage (camera_id, bytes, segments) VALUES ('m-c1', 350, 2)")
		must(t, err)
		_, err = b.db.ExecContext(ctx, "INSERT INTO usage_storage (camera_id, org_id, bytes) VALUES ('m-c1', 'o1', 999), ('m-c2', 'o1', 5)")
		must(t, err)
		must(t, b.db.Close())
		z := openZone(t, dsn)
		day := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
		must(t, z.AddUsage(ctx, day, nil))
		var got []UsageRow
		must(t, z.ScanUsage(ctx, "o1", day, day.AddDate(0, 0, 1), func(u UsageRow) error { got = append(got, u); return nil }))
		if len(got) != 1 || got[0].CameraID != "m-c1" || got[0].StoredBytes != 350 {
			t.Fatalf("after the upgrade: %+v, want m-c1 with 350 bytes", got)
		}
	})
}
