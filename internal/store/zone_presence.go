package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// presenceRow makes sure cameraID has a presence row, so that the
// transactions below lock a row rather than a gap (two MySQL
// transactions locking the same gap and inserting would deadlock).
func (r *zone) presenceRow(ctx context.Context, cameraID string) error {
	_, err := r.exec(ctx, "INSERT INTO camera_presence (camera_id, state, server_id, since_us) VALUES (?, ?, ?, ?)", cameraID, "", "", 0)
	if isConflict(err) {
		return nil
	}
	return err
}

// lockPresence reads a camera's presence row, locked until tx ends.
func (r *zone) lockPresence(ctx context.Context, tx *sql.Tx, cameraID string) (Presence, error) {
	var p Presence
	var since int64
	err := tx.QueryRowContext(ctx, "SELECT camera_id, state, server_id, since_us FROM camera_presence WHERE camera_id = ?"+r.d.forUpdate, cameraID).
		Scan(&p.CameraID, &p.State, &p.Server, &since)
	p.Since = fromMicros(since)
	return p, err
}

// MarkOnline makes a camera's presence online (held by serverID) and, when
// it was not, stores ev in the same transaction.
func (r *zone) MarkOnline(ctx context.Context, cameraID, serverID string, at time.Time, ev Event) (bool, Event, error) {
	var c check
	c.id("camera id", cameraID)
	c.str("server id", serverID, maxID, false)
	if c.err != nil {
		return false, Event{}, c.err
	}
	if err := checkEvent(ev); err != nil {
		return false, Event{}, err
	}
	if err := r.presenceRow(ctx, cameraID); err != nil {
		return false, Event{}, err
	}
	var changed bool
	var out Event
	err := r.inTx(ctx, func(tx *sql.Tx) error {
		p, err := r.lockPresence(ctx, tx, cameraID)
		if err != nil {
			return err
		}
		if p.State == PresenceOnline {
			if p.Server != serverID {
				_, err = tx.ExecContext(ctx, "UPDATE camera_presence SET server_id = ? WHERE camera_id = ?", serverID, cameraID)
			}
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE camera_presence SET state = ?, server_id = ?, since_us = ? WHERE camera_id = ?",
			PresenceOnline, serverID, toMicros(at), cameraID); err != nil {
			return err
		}
		changed = true
		out, err = r.insertEvent(ctx, tx, ev)
		return err
	})
	if err != nil {
		return false, Event{}, err
	}
	return changed, out, nil
}

// gone reports whether st says its camera is away: offline and last seen
// at or before awayBefore, or online but not reported since staleBefore.
func gone(st CameraStatus, awayBefore, staleBefore time.Time) bool {
	if st.Online {
		return !st.LastSeen.After(staleBefore)
	}
	return !st.LastSeen.After(awayBefore)
}

// MarkOffline makes a camera's presence offline and stores ev, in one
// transaction, when its presence is online and its status says it is gone.
func (r *zone) MarkOffline(ctx context.Context, cameraID string, awayBefore, staleBefore time.Time, ev Event) (bool, CameraStatus, Event, error) {
	if err := checkEvent(ev); err != nil {
		return false, CameraStatus{}, Event{}, err
	}
	var changed bool
	var st CameraStatus
	var out Event
	err := r.inTx(ctx, func(tx *sql.Tx) error {
		p, err := r.lockPresence(ctx, tx, cameraID)
		if err == sql.ErrNoRows {
			return nil
		}
		if err != nil {
			return err
		}
		st, err = scanStatus(tx.QueryRowContext(ctx, "SELECT "+statusCols+" FROM camera_status WHERE camera_id = ?", cameraID))
		if err == sql.ErrNoRows {
			st, err = CameraStatus{CameraID: cameraID}, nil
		}
		if err != nil || p.State != PresenceOnline || !gone(st, awayBefore, staleBefore) {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE camera_presence SET state = ?, since_us = ? WHERE camera_id = ?",
			PresenceOffline, toMicros(ev.Start), cameraID); err != nil {
			return err
		}
		changed = true
		out, err = r.insertEvent(ctx, tx, ev)
		return err
	})
	if err != nil {
		return false, CameraStatus{}, Event{}, err
	}
	return changed, st, out, nil
}

// GetPresence returns a camera's presence; State "" when none.
func (r *zone) GetPresence(ctx context.Context, cameraID string) (Presence, error) {
	p := Presence{CameraID: cameraID}
	var since int64
	err := r.db.QueryRowContext(ctx, "SELECT state, server_id, since_us FROM camera_presence WHERE camera_id = ?", cameraID).
		Scan(&p.State, &p.Server, &since)
	if err == sql.ErrNoRows {
		return p, nil
	}
	p.Since = fromMicros(since)
	return p, r.mapErr(err)
}

// AwayCameras lists up to limit (at most 1000) cameras announced online
// whose status says they are gone.
func (r *zone) AwayCameras(ctx context.Context, awayBefore, staleBefore time.Time, limit int) ([]AwayCamera, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT p.state, p.server_id, p.since_us, s.`+strings.ReplaceAll(statusCols, ", ", ", s.")+`
 FROM camera_presence p JOIN camera_status s ON s.camera_id = p.camera_id
 WHERE p.state = ? AND (s.online = ? AND s.last_seen_us <= ? OR s.online = ? AND s.last_seen_us <= ?)
 ORDER BY p.camera_id LIMIT ?`,
		PresenceOnline, false, toMicros(awayBefore), true, toMicros(staleBefore), clampLimit(limit, maxEventLimit, maxEventLimit))
	if err != nil {
		return nil, r.mapErr(err)
	}
	return collect(rows, r.mapErr, func(rows *sql.Rows) (AwayCamera, error) {
		var a AwayCamera
		var since, seen, offSince int64
		s := &a.Status
		err := rows.Scan(append([]any{&a.Presence.State, &a.Presence.Server, &since}, statusDest(s, &seen, &offSince)...)...)
		a.Presence.CameraID, a.Presence.Since, s.LastSeen, s.OfflineSince = s.CameraID, fromMicros(since), fromMicros(seen), fromMicros(offSince)
		return a, err
	})
}

// DeletePresence forgets a camera's presence.
func (r *zone) DeletePresence(ctx context.Context, cameraID string) error {
	_, err := r.exec(ctx, "DELETE FROM camera_presence WHERE camera_id = ?", cameraID)
	return err
}
