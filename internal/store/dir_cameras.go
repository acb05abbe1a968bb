package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// cameraCols is the column list scanCamera reads.
const cameraCols = "id, org_id, name, zone, source_type, source_url, retention_days, recording, ingest_secret_hash, created_us, motion_off, motion_sensitivity, labels, site_id"

// scanCamera reads one row of cameraCols.
func scanCamera(row interface{ Scan(...any) error }) (Camera, error) {
	var c Camera
	var created int64
	var labels string
	err := row.Scan(&c.ID, &c.OrgID, &c.Name, &c.Zone, &c.SourceType, &c.SourceURL, &c.RetentionDays, &c.Recording, &c.IngestSecretHash, &created,
		&c.MotionOff, &c.MotionSensitivity, &labels, &c.SiteID)
	c.CreatedAt = fromMicros(created)
	if err == nil {
		c.Labels, err = decodeLabels(labels)
	}
	return c, err
}

// maxMotionSensitivity bounds what the directory keeps; the cameras
// service allows 1 to 10.
const maxMotionSensitivity = 100

// checkCamera validates cam before it is written.
func checkCamera(cam Camera) error {
	var c check
	c.id("camera id", cam.ID)
	c.id("org id", cam.OrgID)
	c.str("camera name", cam.Name, maxKey, true)
	c.str("zone", cam.Zone, maxID, true)
	c.str("source type", cam.SourceType, maxID, false)
	c.str("source URL", cam.SourceURL, maxText, false)
	c.str("recording", cam.Recording, maxID, false)
	c.str("ingest secret hash", cam.IngestSecretHash, maxText, false)
	c.str("site id", cam.SiteID, maxID, false)
	c.ok(cam.RetentionDays >= 0 && cam.RetentionDays <= 1<<20, "retention days out of range")
	c.ok(cam.MotionSensitivity >= 0 && cam.MotionSensitivity <= maxMotionSensitivity, "motion sensitivity out of range")
	c.str("labels", encodeLabels(cam.Labels), maxText, false)
	return c.err
}

// CreateCamera stores a new camera; ErrNotFound if its organisation does not
// exist, ErrConflict if its id is taken.
func (r *directory) CreateCamera(ctx context.Context, c Camera) error {
	if err := checkCamera(c); err != nil {
		return err
	}
	return r.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO cameras ("+cameraCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			c.ID, c.OrgID, c.Name, c.Zone, c.SourceType, c.SourceURL, c.RetentionDays, c.Recording, c.IngestSecretHash, toMicros(c.CreatedAt),
			c.MotionOff, c.MotionSensitivity, encodeLabels(c.Labels), c.SiteID); err != nil {
			return err
		}
		return r.cameraChanged(ctx, tx, c.Zone)
	})
}

// GetCamera returns one camera or ErrNotFound.
func (r *directory) GetCamera(ctx context.Context, id string) (Camera, error) {
	c, err := scanCamera(r.db.QueryRowContext(ctx, "SELECT "+cameraCols+" FROM cameras WHERE id = ?", id))
	return c, r.mapErr(err)
}

// ModifyCamera reads camera id with its row locked (MySQL: FOR UPDATE;
// SQLite: the transaction holds the write lock), lets fn change it and
// writes it back, all in one transaction: concurrent edits (a PATCH and a
// key rotation) apply one after the other to the row as the other left it,
// so neither undoes the other. Its id, organisation, zone and creation time
// cannot change. It returns the camera as it was and as it is now;
// ErrNotFound when it does not exist, fn's error (nothing written) when fn
// refuses.
func (r *directory) ModifyCamera(ctx context.Context, id string, fn func(c *Camera) error) (before, after Camera, err error) {
	var refused error
	err = r.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		before, err = scanCamera(tx.QueryRowContext(ctx, "SELECT "+cameraCols+" FROM cameras WHERE id = ?"+r.d.forUpdate, id))
		if err != nil {
			return err
		}
		after = before
		if refused = fn(&after); refused != nil {
			return refused
		}
		if after.ID != before.ID || after.OrgID != before.OrgID || after.Zone != before.Zone || !after.CreatedAt.Equal(before.CreatedAt) {
			return fmt.Errorf("store: a camera's id, organisation, zone and creation time cannot change")
		}
		return r.writeCamera(ctx, tx, after, before.Zone)
	})
	if refused != nil {
		return before, after, refused // as fn said it, not as a store error
	}
	return before, after, err
}

// UpdateCamera rewrites every field of c but its id and creation time,
// whatever the row holds now; services edit cameras with ModifyCamera, which
// does not lose concurrent changes.
func (r *directory) UpdateCamera(ctx context.Context, c Camera) error {
	if err := checkCamera(c); err != nil {
		return err
	}
	return r.inTx(ctx, func(tx *sql.Tx) error {
		var zone string
		if err := tx.QueryRowContext(ctx, "SELECT zone FROM cameras WHERE id = ?"+r.d.forUpdate, c.ID).Scan(&zone); err != nil {
			return err
		}
		return r.writeCamera(ctx, tx, c, zone)
	})
}

// writeCamera writes every field of c but its id and creation time in tx
// and replaces the change token of its zone and, when it moved, of oldZone.
func (r *directory) writeCamera(ctx context.Context, tx *sql.Tx, c Camera, oldZone string) error {
	if err := checkCamera(c); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE cameras SET org_id = ?, name = ?, zone = ?, source_type = ?, source_url = ?,
  retention_days = ?, recording = ?, ingest_secret_hash = ?, motion_off = ?, motion_sensitivity = ?, labels = ?, site_id = ? WHERE id = ?`,
		c.OrgID, c.Name, c.Zone, c.SourceType, c.SourceURL, c.RetentionDays, c.Recording, c.IngestSecretHash,
		c.MotionOff, c.MotionSensitivity, encodeLabels(c.Labels), c.SiteID, c.ID)
	if err != nil {
		return err
	}
	if oldZone != c.Zone {
		if err := r.cameraChanged(ctx, tx, oldZone); err != nil {
			return err
		}
	}
	return r.cameraChanged(ctx, tx, c.Zone)
}

// DeleteCamera removes a camera and (by cascade) its grants, or
// ErrNotFound; a *HeldError naming its holds while it has any (read with
// the camera's row locked, which CreateHold locks too).
func (r *directory) DeleteCamera(ctx context.Context, id string) error {
	return r.inTx(ctx, func(tx *sql.Tx) error {
		var zone string
		if err := tx.QueryRowContext(ctx, "SELECT zone FROM cameras WHERE id = ?"+r.d.forUpdate, id).Scan(&zone); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, "SELECT "+holdCols+" FROM holds WHERE camera_id = ? ORDER BY from_us, id", id)
		if err != nil {
			return err
		}
		held, err := collect(rows, r.mapErr, func(rows *sql.Rows) (Hold, error) { return scanHold(rows) })
		if err != nil {
			return err
		}
		if len(held) > 0 {
			return &HeldError{Holds: held}
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM cameras WHERE id = ?", id); err != nil {
			return err
		}
		return r.cameraChanged(ctx, tx, zone)
	})
}

// cameraChanged replaces zone's change token in tx, so that the zone's
// camera servers, which poll it (CameraChanges), look at its cameras again.
// The token is random: pollers only compare it with the last one they saw.
func (r *directory) cameraChanged(ctx context.Context, tx *sql.Tx, zone string) error {
	_, err := tx.ExecContext(ctx, r.d.upsert("camera_changes", []string{"zone"}, []string{"zone", "token"}, []string{"token"}),
		zone, rand.Int64N(math.MaxInt64)+1)
	return err
}

// CameraChanges returns zone's change token: it differs from the last value
// read whenever a camera of the zone was created, changed or deleted since
// (0 before the first change).
func (r *directory) CameraChanges(ctx context.Context, zone string) (int64, error) {
	var token int64
	err := r.db.QueryRowContext(ctx, "SELECT token FROM camera_changes WHERE zone = ?", zone).Scan(&token)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return token, r.mapErr(err)
}

// ListCameras returns the cameras of the given organisations (nil: all), by
// name.
func (r *directory) ListCameras(ctx context.Context, orgIDs []string) ([]Camera, error) {
	q, args, none, err := inOrgs("SELECT "+cameraCols+" FROM cameras", orgIDs)
	if none || err != nil {
		return nil, err
	}
	return r.cameras(ctx, q+" ORDER BY name, id", args...)
}

// inOrgs narrows q to the rows of orgIDs (nil: every organisation's);
// none is true when orgIDs is empty, so that nothing matches.
func inOrgs(q string, orgIDs []string) (string, []any, bool, error) {
	if orgIDs == nil {
		return q, nil, false, nil
	}
	if len(orgIDs) == 0 {
		return q, nil, true, nil
	}
	ph, args, err := inList(orgIDs)
	return q + " WHERE org_id IN (" + ph + ")", args, false, err
}

// ListCamerasByZone returns a zone's cameras, by id.
func (r *directory) ListCamerasByZone(ctx context.Context, zone string) ([]Camera, error) {
	return r.cameras(ctx, "SELECT "+cameraCols+" FROM cameras WHERE zone = ? ORDER BY id", zone)
}

// ListCamerasBySite returns a site's cameras, by id.
func (r *directory) ListCamerasBySite(ctx context.Context, siteID string) ([]Camera, error) {
	return r.cameras(ctx, "SELECT "+cameraCols+" FROM cameras WHERE site_id = ? ORDER BY id", siteID)
}

func (r *directory) cameras(ctx context.Context, q string, args ...any) ([]Camera, error) {
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, r.mapErr(err)
	}
	return collect(rows, r.mapErr, func(rows *sql.Rows) (Camera, error) { return scanCamera(rows) })
}

// CountCamerasByZone counts cameras per zone (zones without cameras absent).
func (r *directory) CountCamerasByZone(ctx context.Context) (map[string]int, error) {
	rows, err := r.db.QueryContext(ctx, "SELECT zone, COUNT(*) FROM cameras GROUP BY zone")
	if err != nil {
		return nil, r.mapErr(err)
	}
	type zc struct {
		zone string
		n    int
	}
	list, err := collect(rows, r.mapErr, func(rows *sql.Rows) (zc, error) {
		var v zc
		err := rows.Scan(&v.zone, &v.n)
		return v, err
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(list))
	for _, v := range list {
		out[v.zone] = v.n
	}
	return out, nil
}

// maxPermissions bounds the permissions of one grant.
const maxPermissions = 64

// PutGrant sets a user's permissions on a camera; ErrNotFound when either
// does not exist.
func (r *directory) PutGrant(ctx context.Context, g Grant) error {
	var c check
	c.id("camera id", g.CameraID)
	c.id("user id", g.UserID)
	c.ok(len(g.Permissions) <= maxPermissions, fmt.Sprintf("more than %d permissions", maxPermissions))
	for _, p := range g.Permissions {
		c.id("permission", p)
	}
	if c.err != nil {
		return c.err
	}
	perms := g.Permissions
	if perms == nil {
		perms = []string{}
	}
	js, err := json.Marshal(perms)
	if err != nil {
		return fmt.Errorf("store: encode permissions: %w", err)
	}
	_, err = r.exec(ctx, r.d.upsert("grants", []string{"camera_id", "user_id"}, []string{"camera_id", "user_id", "permissions"}, []string{"permissions"}),
		g.CameraID, g.UserID, string(js))
	return err
}

// DeleteGrant removes a user's grant on a camera, or ErrNotFound.
func (r *directory) DeleteGrant(ctx context.Context, cameraID, userID string) error {
	return r.execOne(ctx, "DELETE FROM grants WHERE camera_id = ? AND user_id = ?", cameraID, userID)
}

// GetGrant returns a user's grant on a camera, or ErrNotFound.
func (r *directory) GetGrant(ctx context.Context, cameraID, userID string) (Grant, error) {
	return scanGrant(r.db.QueryRowContext(ctx, "SELECT camera_id, user_id, permissions FROM grants WHERE camera_id = ? AND user_id = ?", cameraID, userID), r.mapErr)
}

// ListGrantsForUser returns every grant of a user, by camera id.
func (r *directory) ListGrantsForUser(ctx context.Context, userID string) ([]Grant, error) {
	rows, err := r.db.QueryContext(ctx, "SELECT camera_id, user_id, permissions FROM grants WHERE user_id = ? ORDER BY camera_id", userID)
	if err != nil {
		return nil, r.mapErr(err)
	}
	return collect(rows, r.mapErr, func(rows *sql.Rows) (Grant, error) { return scanGrant(rows, r.mapErr) })
}

// scanGrant reads camera_id, user_id, permissions.
func scanGrant(row interface{ Scan(...any) error }, mapErr func(error) error) (Grant, error) {
	var g Grant
	var perms string
	if err := row.Scan(&g.CameraID, &g.UserID, &perms); err != nil {
		return Grant{}, mapErr(err)
	}
	if err := json.Unmarshal([]byte(perms), &g.Permissions); err != nil {
		return Grant{}, fmt.Errorf("store: grant %s/%s: bad permissions: %w", g.CameraID, g.UserID, err)
	}
	return g, nil
}

// encodeLabels is the labels column of a camera: a JSON object with sorted
// keys, or "" for none.
func encodeLabels(l map[string]string) string {
	if len(l) == 0 {
		return ""
	}
	b, err := json.Marshal(l) // a map of strings always encodes
	if err != nil {
		return ""
	}
	return string(b)
}

// decodeLabels reads the labels column; "" is no labels (nil).
func decodeLabels(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	var l map[string]string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, fmt.Errorf("store: camera labels column: %w", err)
	}
	return l, nil
}
