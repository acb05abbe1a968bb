package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// statusCols is the column list scanStatus reads.
const statusCols = "camera_id, online, codec, bitrate_kbps, last_seen_us, server_id, recording, recording_reason, unrecorded_tracks, offline_reason, offline_since_us"

// scanStatus reads one row of statusCols.
func scanStatus(row interface{ Scan(...any) error }) (CameraStatus, error) {
	var s CameraStatus
	var seen, since int64
	err := row.Scan(statusDest(&s, &seen, &since)...)
	s.LastSeen, s.OfflineSince = fromMicros(seen), fromMicros(since)
	return s, err
}

// statusDest is where a row of statusCols is scanned to: s, with its
// times in micros into seen and since.
func statusDest(s *CameraStatus, seen, since *int64) []any {
	return []any{&s.CameraID, &s.Online, &s.Codec, &s.BitrateKbps, seen, &s.Server, &s.Recording, &s.RecordingReason, &s.Unrecorded,
		&s.OfflineReason, since}
}

// PutStatus records what is known of a camera now, replacing what was.
func (r *zone) PutStatus(ctx context.Context, s CameraStatus) error {
	var c check
	c.id("camera id", s.CameraID)
	c.str("codec", s.Codec, maxKey, false)
	c.str("server id", s.Server, maxID, false)
	c.ok(s.BitrateKbps >= 0 && s.BitrateKbps <= 1<<30, "bitrate out of range")
	c.str("recording state", s.Recording, maxID, false)
	c.str("recording reason", s.RecordingReason, maxKey, false)
	c.str("unrecorded tracks", s.Unrecorded, maxKey, false)
	c.str("offline reason", s.OfflineReason, maxKey, false)
	if c.err != nil {
		return c.err
	}
	cols := strings.Split(statusCols, ", ")
	_, err := r.exec(ctx, r.d.upsert("camera_status", cols[:1], cols, cols[1:]),
		s.CameraID, s.Online, s.Codec, s.BitrateKbps, toMicros(s.LastSeen), s.Server, s.Recording, s.RecordingReason, s.Unrecorded,
		s.OfflineReason, toMicros(s.OfflineSince))
	return err
}

// NoteOffline records why an offline camera is not connected (a pull that
// failed): its reason, and at as its offline time unless it already has
// one. A camera online (on any server) is left as it is, so that a late
// failure report never hides a connection.
func (r *zone) NoteOffline(ctx context.Context, cameraID, reason string, at time.Time) error {
	var c check
	c.id("camera id", cameraID)
	c.str("offline reason", reason, maxKey, false)
	if c.err != nil {
		return c.err
	}
	res, err := r.exec(ctx, "UPDATE camera_status SET offline_reason = ?, offline_since_us = CASE WHEN offline_since_us = 0 THEN ? ELSE offline_since_us END WHERE camera_id = ? AND online = ?",
		reason, toMicros(at), cameraID, false)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return r.mapErr(err)
	}
	_, err = r.exec(ctx, "INSERT INTO camera_status ("+statusCols+") VALUES ("+placeholders(11)+")",
		cameraID, false, "", 0, 0, "", "", "", "", reason, toMicros(at))
	if isConflict(err) {
		return nil // online meanwhile, or the same reason written twice
	}
	return err
}

// GetStatus returns a camera's status; the zero value (with CameraID set)
// when nothing is known.
func (r *zone) GetStatus(ctx context.Context, cameraID string) (CameraStatus, error) {
	s, err := scanStatus(r.db.QueryRowContext(ctx, "SELECT "+statusCols+" FROM camera_status WHERE camera_id = ?", cameraID))
	if err == sql.ErrNoRows {
		return CameraStatus{CameraID: cameraID}, nil
	}
	return s, r.mapErr(err)
}

// ListStatus returns the known statuses of the given cameras (nil: all);
// cameras without a status are absent from the map.
func (r *zone) ListStatus(ctx context.Context, cameraIDs []string) (map[string]CameraStatus, error) {
	q := "SELECT " + statusCols + " FROM camera_status"
	var args []any
	if cameraIDs != nil {
		if len(cameraIDs) == 0 {
			return map[string]CameraStatus{}, nil
		}
		ph, a, err := inList(cameraIDs)
		if err != nil {
			return nil, err
		}
		q += " WHERE camera_id IN (" + ph + ")"
		args = a
	}
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, r.mapErr(err)
	}
	list, err := collect(rows, r.mapErr, func(rows *sql.Rows) (CameraStatus, error) { return scanStatus(rows) })
	if err != nil {
		return nil, err
	}
	out := make(map[string]CameraStatus, len(list))
	for _, s := range list {
		out[s.CameraID] = s
	}
	return out, nil
}

// SetOffline marks every camera held by serverID offline; Server stays set
// as the last server that held it.
func (r *zone) SetOffline(ctx context.Context, serverID string) error {
	_, err := r.exec(ctx, "UPDATE camera_status SET online = ?, recording = ?, recording_reason = ?, unrecorded_tracks = ?, offline_reason = ?, offline_since_us = ? WHERE server_id = ? AND online = ?",
		false, "", "", "", ReasonServerStopped, toMicros(time.Now()), serverID, true)
	return err
}

// Heartbeat registers s or refreshes it, Seen included.
func (r *zone) Heartbeat(ctx context.Context, s Server) error {
	var c check
	c.id("server id", s.ID)
	c.str("server address", s.Addr, maxKey, false)
	c.ok(s.Capacity >= 0 && s.Capacity <= 1<<30, "capacity out of range")
	if c.err != nil {
		return c.err
	}
	cols := []string{"id", "addr", "capacity", "seen_us", "draining"}
	_, err := r.exec(ctx, r.d.upsert("servers", cols[:1], cols, cols[1:]),
		s.ID, s.Addr, s.Capacity, toMicros(s.Seen), s.Draining)
	return err
}

// ListServers returns the servers seen at or after aliveSince, by id.
func (r *zone) ListServers(ctx context.Context, aliveSince time.Time) ([]Server, error) {
	rows, err := r.db.QueryContext(ctx, "SELECT id, addr, capacity, seen_us, draining FROM servers WHERE seen_us >= ? ORDER BY id", toMicros(aliveSince))
	if err != nil {
		return nil, r.mapErr(err)
	}
	return collect(rows, r.mapErr, func(rows *sql.Rows) (Server, error) {
		var s Server
		var seen int64
		err := rows.Scan(&s.ID, &s.Addr, &s.Capacity, &seen, &s.Draining)
		s.Seen = fromMicros(seen)
		return s, err
	})
}

// RemoveServer forgets a server; removing a missing one is not an error.
func (r *zone) RemoveServer(ctx context.Context, id string) error {
	_, err := r.exec(ctx, "DELETE FROM servers WHERE id = ?", id)
	return err
}
