package store

import (
	"context"
	"database/sql"
	"time"
)

// ClaimLease takes or renews the lease of cameraID for serverID until
// now+ttl when it is free, expired or already serverID's, and reports
// whether serverID holds it afterwards. Each statement is atomic on its own,
// so servers racing in several processes agree on one holder: the
// conditional UPDATE takes an existing row only when the condition holds;
// when there is no row, the INSERT lets exactly one racer create it; the
// final read says who won.
func (r *zone) ClaimLease(ctx context.Context, cameraID, serverID string, ttl time.Duration, now time.Time) (bool, error) {
	var c check
	c.id("camera id", cameraID)
	c.id("server id", serverID)
	c.ok(ttl > 0, "lease ttl must be positive")
	c.ok(!now.IsZero(), "lease time is zero")
	if c.err != nil {
		return false, c.err
	}
	nowUS, expUS := toMicros(now), toMicros(now.Add(ttl))
	res, err := r.exec(ctx, "UPDATE leases SET server_id = ?, expires_us = ? WHERE camera_id = ? AND (server_id = ? OR expires_us <= ?)",
		serverID, expUS, cameraID, serverID, nowUS)
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return false, r.mapErr(err)
	} else if n == 0 {
		// Free, or held by another: only an insert can tell, atomically.
		_, err := r.exec(ctx, "INSERT INTO leases (camera_id, server_id, expires_us) VALUES (?, ?, ?)", cameraID, serverID, expUS)
		if err != nil && !isConflict(err) {
			return false, err
		}
	}
	var holder string
	var expires int64
	err = r.db.QueryRowContext(ctx, "SELECT server_id, expires_us FROM leases WHERE camera_id = ?", cameraID).Scan(&holder, &expires)
	if err == sql.ErrNoRows {
		return false, nil // released between our write and this read
	}
	if err != nil {
		return false, r.mapErr(err)
	}
	return holder == serverID && expires > nowUS, nil
}

// ReleaseLeases drops every lease serverID holds.
func (r *zone) ReleaseLeases(ctx context.Context, serverID string) error {
	_, err := r.exec(ctx, "DELETE FROM leases WHERE server_id = ?", serverID)
	return err
}

// ListLeases returns serverID's leases (all servers' when serverID is
// empty), expired ones included, by camera id.
func (r *zone) ListLeases(ctx context.Context, serverID string) ([]Lease, error) {
	q, args := "SELECT camera_id, server_id, expires_us FROM leases", []any{}
	if serverID != "" {
		q, args = q+" WHERE server_id = ?", append(args, serverID)
	}
	rows, err := r.db.QueryContext(ctx, q+" ORDER BY camera_id", args...)
	if err != nil {
		return nil, r.mapErr(err)
	}
	return collect(rows, r.mapErr, func(rows *sql.Rows) (Lease, error) {
		var l Lease
		var exp int64
		err := rows.Scan(&l.CameraID, &l.ServerID, &exp)
		l.Expires = fromMicros(exp)
		return l, err
	})
}
