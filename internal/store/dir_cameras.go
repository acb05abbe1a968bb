package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// cameraCols is the column list scanCamera reads.
const cameraCols = "id, org_id, name, zone, source_type, source_url, retention_days, recording, ingest_secret_hash, created_us"

// scanCamera reads one row of cameraCols.
func scanCamera(row interface{ Scan(...any) error }) (Camera, error) {
	var c Camera
	var created int64
	err := row.Scan(&c.ID, &c.OrgID, &c.Name, &c.Zone, &c.SourceType, &c.SourceURL, &c.RetentionDays, &c.Recording, &c.IngestSecretHash, &created)
	c.CreatedAt = fromMicros(created)
	return c, err
}

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
	c.ok(cam.RetentionDays >= 0 && cam.RetentionDays <= 1<<20, "retention days out of range")
	return c.err
}

// CreateCamera stores a new camera; ErrNotFound if its organisation does not
// exist, ErrConflict if its id is taken.
func (r *directory) CreateCamera(ctx context.Context, c Camera) error {
	if err := checkCamera(c); err != nil {
		return err
	}
	_, err := r.exec(ctx, "INSERT INTO cameras ("+cameraCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		c.ID, c.OrgID, c.Name, c.Zone, c.SourceType, c.SourceURL, c.RetentionDays, c.Recording, c.IngestSecretHash, toMicros(c.CreatedAt))
	return err
}

// GetCamera returns one camera or ErrNotFound.
func (r *directory) GetCamera(ctx context.Context, id string) (Camera, error) {
	c, err := scanCamera(r.db.QueryRowContext(ctx, "SELECT "+cameraCols+" FROM cameras WHERE id = ?", id))
	return c, r.mapErr(err)
}

// UpdateCamera rewrites every field of c but its id and creation time.
func (r *directory) UpdateCamera(ctx context.Context, c Camera) error {
	if err := checkCamera(c); err != nil {
		return err
	}
	return r.execOne(ctx, `UPDATE cameras SET org_id = ?, name = ?, zone = ?, source_type = ?, source_url = ?,
  retention_days = ?, recording = ?, ingest_secret_hash = ? WHERE id = ?`,
		c.OrgID, c.Name, c.Zone, c.SourceType, c.SourceURL, c.RetentionDays, c.Recording, c.IngestSecretHash, c.ID)
}

// DeleteCamera removes a camera and (by cascade) its grants, or ErrNotFound.
func (r *directory) DeleteCamera(ctx context.Context, id string) error {
	return r.execOne(ctx, "DELETE FROM cameras WHERE id = ?", id)
}

// ListCameras returns the cameras of the given organisations (nil: all), by
// name.
func (r *directory) ListCameras(ctx context.Context, orgIDs []string) ([]Camera, error) {
	q := "SELECT " + cameraCols + " FROM cameras"
	var args []any
	if orgIDs != nil {
		if len(orgIDs) == 0 {
			return nil, nil
		}
		ph, a, err := inList(orgIDs)
		if err != nil {
			return nil, err
		}
		q += " WHERE org_id IN (" + ph + ")"
		args = a
	}
	return r.cameras(ctx, q+" ORDER BY name, id", args...)
}

// ListCamerasByZone returns a zone's cameras, by id.
func (r *directory) ListCamerasByZone(ctx context.Context, zone string) ([]Camera, error) {
	return r.cameras(ctx, "SELECT "+cameraCols+" FROM cameras WHERE zone = ? ORDER BY id", zone)
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
