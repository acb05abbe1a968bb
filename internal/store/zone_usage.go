package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// The additive counters of usage_daily, in column order: what usage
// metering counts per organisation, camera and day.
const (
	UsageRecordedMs        = iota // milliseconds of video indexed (uploaded segments)
	UsageIngestBytes              // media bytes received from the camera
	UsageEgressWebRTC             // RTP payload bytes sent to WebRTC viewers
	UsageEgressLiveHLS            // response bytes of live HLS
	UsageEgressVOD                // response bytes of recorded HLS (playlists, segments)
	UsageEgressClip               // response bytes of clip exports
	UsageEgressImage              // response bytes of images
	UsageEgressShare              // response bytes served through share links
	UsageExports                  // clip exports started
	UsageEvents                   // events recorded
	UsageWebhookDeliveries        // webhook deliveries answered 2xx
	NumUsageCounters
)

// UsageCounterColumns are the columns of the counters, by index.
var UsageCounterColumns = [NumUsageCounters]string{
	"recorded_ms", "ingest_bytes", "egress_webrtc", "egress_live_hls", "egress_vod", "egress_clip", "egress_image",
	"egress_share", "exports", "events", "webhook_deliveries",
}

// UsageCounts holds one value per counter.
type UsageCounts [NumUsageCounters]int64

// UsageDelta is what one camera used since the last flush: counters to
// add to its day. Its stored bytes are not in it: segment_usage keeps them
// with every segment written or deleted (zone_segment_usage.go).
type UsageDelta struct {
	OrgID    string // "" when unknown: nothing is written for it
	CameraID string
	Counts   UsageCounts
}

// UsageRow is one camera's usage on one day.
type UsageRow struct {
	OrgID, CameraID string
	Day             time.Time // midnight UTC
	// StoredBytes is what the camera had stored (its segment_usage bytes)
	// at the day's last flush.
	StoredBytes int64
	Counts      UsageCounts
}

// UsageStore is a zone's usage metering.
type UsageStore interface {
	// AddUsage applies deltas to day (midnight UTC) in one transaction:
	// counters added, each camera's organisation noted beside its stored
	// bytes (segment_usage), and every camera's stored bytes of the day
	// set to what segment_usage has.
	AddUsage(ctx context.Context, day time.Time, deltas []UsageDelta) error
	// ScanUsage calls fn for each row of orgID with from <= day < to, in
	// day then camera order.
	ScanUsage(ctx context.Context, orgID string, from, to time.Time, fn func(UsageRow) error) error
}

// AddUsage implements UsageStore.
func (r *zone) AddUsage(ctx context.Context, day time.Time, deltas []UsageDelta) error {
	for _, d := range deltas {
		var c check
		c.id("camera id", d.CameraID)
		c.str("org id", d.OrgID, maxID, false)
		if c.err != nil {
			return c.err
		}
	}
	dayUS := toMicros(day)
	counters := UsageCounterColumns[:]
	dailyCols := append([]string{"org_id", "day_us", "camera_id", "stored_bytes"}, counters...)
	addDaily := r.d.upsertAdd("usage_daily", []string{"org_id", "day_us", "camera_id"}, dailyCols, counters)
	setOrg := "INSERT INTO segment_usage (camera_id, org_id, bytes, segments) VALUES (?, ?, 0, 0)" +
		r.d.onConflictSet([]string{"camera_id"}, "org_id = "+r.d.excluded("org_id"))
	return r.inTx(ctx, func(tx *sql.Tx) error {
		for _, d := range deltas {
			if d.OrgID == "" {
				continue
			}
			// The camera's organisation, beside its stored bytes (the
			// recorder that indexes them knows only the camera): a row
			// made now if the camera has no recording yet, so that its
			// first segments find it there.
			if _, err := tx.ExecContext(ctx, setOrg, d.CameraID, d.OrgID); err != nil {
				return fmt.Errorf("store: usage organisation: %w", err)
			}
			if d.Counts == (UsageCounts{}) {
				continue
			}
			args := []any{d.OrgID, dayUS, d.CameraID, 0}
			for _, v := range d.Counts {
				args = append(args, v)
			}
			if _, err := tx.ExecContext(ctx, addDaily, args...); err != nil {
				return fmt.Errorf("store: usage: %w", err)
			}
		}
		// Every camera's day gets its stored bytes (only rows that lack
		// them or differ are written; a camera with nothing stored gets no
		// new row), so that a camera whose recordings did not change still
		// counts its bytes that day.
		zeros := strings.Repeat(", 0", NumUsageCounters)
		snap := "INSERT INTO usage_daily (" + strings.Join(dailyCols, ", ") + ")" +
			" SELECT s.org_id, ?, s.camera_id, s.bytes" + zeros + " FROM segment_usage s" +
			" LEFT JOIN usage_daily d ON d.org_id = s.org_id AND d.day_us = ? AND d.camera_id = s.camera_id" +
			" WHERE s.org_id <> '' AND (d.camera_id IS NULL AND s.bytes <> 0 OR d.stored_bytes <> s.bytes)" +
			r.d.onConflictSet([]string{"org_id", "day_us", "camera_id"}, "stored_bytes = "+r.d.excluded("stored_bytes"))
		if _, err := tx.ExecContext(ctx, snap, dayUS, dayUS); err != nil {
			return fmt.Errorf("store: usage stored bytes: %w", err)
		}
		return nil
	})
}

// ScanUsage implements UsageStore.
func (r *zone) ScanUsage(ctx context.Context, orgID string, from, to time.Time, fn func(UsageRow) error) error {
	rows, err := r.db.QueryContext(ctx, "SELECT org_id, day_us, camera_id, stored_bytes, "+strings.Join(UsageCounterColumns[:], ", ")+
		" FROM usage_daily WHERE org_id = ? AND day_us >= ? AND day_us < ? ORDER BY day_us, camera_id", orgID, toMicros(from), toMicros(to))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var u UsageRow
		var day int64
		dst := []any{&u.OrgID, &day, &u.CameraID, &u.StoredBytes}
		for i := range u.Counts {
			dst = append(dst, &u.Counts[i])
		}
		if err := rows.Scan(dst...); err != nil {
			return err
		}
		u.Day = fromMicros(day).UTC()
		if err := fn(u); err != nil {
			return err
		}
	}
	return rows.Err()
}
