package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Hold is a legal hold: it keeps a camera's recordings overlapping
// [From, To) past retention, quotas and disk pressure until it is
// released (deleted).
type Hold struct {
	ID             string
	OrgID          string
	CameraID       string
	From, To       time.Time
	Reason         string
	CreatedBy      string
	CreatedByEmail string
	CreatedAt      time.Time
}

// Covers reports whether the hold keeps a recording of its camera that
// runs from start to end: whether the two overlap.
func (h Hold) Covers(start, end time.Time) bool {
	return start.Before(h.To) && end.After(h.From)
}

// MaxHoldsPerCamera bounds the holds one camera may have at once.
const MaxHoldsPerCamera = 100

// HeldError is DeleteCamera's refusal of a camera that has holds: they
// must be released first.
type HeldError struct{ Holds []Hold }

func (e *HeldError) Error() string {
	parts := make([]string, 0, len(e.Holds))
	for _, h := range e.Holds {
		parts = append(parts, fmt.Sprintf("%s (%s to %s: %q)", h.ID, h.From.Format(time.RFC3339), h.To.Format(time.RFC3339), h.Reason))
	}
	return fmt.Sprintf("the camera has %d legal hold(s); release them before deleting it: %s", len(e.Holds), strings.Join(parts, ", "))
}

// OrgStorage is what an organisation's recordings take in one zone, as
// that zone's retention sweeper last counted it.
type OrgStorage struct {
	OrgID    string
	Zone     string
	Bytes    int64
	Segments int64
	// Oldest is the end of the zone's oldest recording of the
	// organisation that a quota may delete (not held); zero when none.
	Oldest    time.Time
	UpdatedAt time.Time
}

// HoldStore keeps holds, quotas and the storage use per organisation and
// zone.
type HoldStore interface {
	// CreateHold stores h with its camera's row locked; ErrNotFound when
	// the camera is gone, ErrLimit when it has MaxHoldsPerCamera holds.
	CreateHold(ctx context.Context, h Hold) error
	// ListHolds returns the holds of cameraIDs, by camera and start.
	ListHolds(ctx context.Context, cameraIDs []string) ([]Hold, error)
	// ListZoneHolds returns the holds of every camera of a zone.
	ListZoneHolds(ctx context.Context, zone string) ([]Hold, error)
	// DeleteHold releases hold id of cameraID and returns it; ErrNotFound
	// when the camera has no such hold.
	DeleteHold(ctx context.Context, cameraID, id string) (Hold, error)

	// SetOrgQuota sets an organisation's storage quota in bytes (0: none)
	// and returns the one it replaced; ErrNotFound for no organisation.
	SetOrgQuota(ctx context.Context, orgID string, bytes int64) (int64, error)
	// PutOrgStorage stores what an organisation uses in a zone.
	PutOrgStorage(ctx context.Context, s OrgStorage) error
	// ListOrgStorage returns an organisation's use per zone.
	ListOrgStorage(ctx context.Context, orgID string) ([]OrgStorage, error)
}

// holdCols is the column list scanHold reads.
const holdCols = "id, org_id, camera_id, from_us, to_us, reason, created_by, created_by_email, created_us"

func scanHold(row interface{ Scan(...any) error }) (Hold, error) {
	var h Hold
	var from, to, created int64
	err := row.Scan(&h.ID, &h.OrgID, &h.CameraID, &from, &to, &h.Reason, &h.CreatedBy, &h.CreatedByEmail, &created)
	h.From, h.To, h.CreatedAt = fromMicros(from), fromMicros(to), fromMicros(created)
	return h, err
}

// CreateHold stores h in one transaction that locks its camera's row (so
// that DeleteCamera, which locks it too, sees the hold or runs first).
func (r *directory) CreateHold(ctx context.Context, h Hold) error {
	var c check
	c.id("hold id", h.ID)
	c.id("org id", h.OrgID)
	c.id("camera id", h.CameraID)
	c.str("reason", h.Reason, maxText, true)
	c.str("created by", h.CreatedBy, maxID, false)
	c.str("created by email", h.CreatedByEmail, maxKey, false)
	c.ok(h.From.Before(h.To), "hold ends before it starts")
	if c.err != nil {
		return c.err
	}
	return r.inTx(ctx, func(tx *sql.Tx) error {
		var org string
		if err := tx.QueryRowContext(ctx, "SELECT org_id FROM cameras WHERE id = ?"+r.d.forUpdate, h.CameraID).Scan(&org); err != nil {
			return err
		}
		if org != h.OrgID {
			return ErrNotFound
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM holds WHERE camera_id = ?", h.CameraID).Scan(&n); err != nil {
			return err
		}
		if n >= MaxHoldsPerCamera {
			return ErrLimit
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO holds ("+holdCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			h.ID, h.OrgID, h.CameraID, toMicros(h.From), toMicros(h.To), h.Reason, h.CreatedBy, h.CreatedByEmail, toMicros(h.CreatedAt))
		return err
	})
}

// ListHolds returns the holds of cameraIDs, by camera and start.
func (r *directory) ListHolds(ctx context.Context, cameraIDs []string) ([]Hold, error) {
	if len(cameraIDs) == 0 {
		return nil, nil
	}
	ph, args, err := inList(cameraIDs)
	if err != nil {
		return nil, err
	}
	return r.holds(ctx, "SELECT "+holdCols+" FROM holds WHERE camera_id IN ("+ph+") ORDER BY camera_id, from_us, id", args...)
}

// ListZoneHolds returns the holds of the cameras of zone.
func (r *directory) ListZoneHolds(ctx context.Context, zone string) ([]Hold, error) {
	cols := "h." + strings.ReplaceAll(holdCols, ", ", ", h.")
	return r.holds(ctx, "SELECT "+cols+" FROM holds h JOIN cameras c ON c.id = h.camera_id WHERE c.zone = ? ORDER BY h.camera_id, h.from_us, h.id", zone)
}

func (r *directory) holds(ctx context.Context, q string, args ...any) ([]Hold, error) {
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, r.mapErr(err)
	}
	return collect(rows, r.mapErr, func(rows *sql.Rows) (Hold, error) { return scanHold(rows) })
}

// DeleteHold releases hold id of cameraID.
func (r *directory) DeleteHold(ctx context.Context, cameraID, id string) (Hold, error) {
	var h Hold
	err := r.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		h, err = scanHold(tx.QueryRowContext(ctx, "SELECT "+holdCols+" FROM holds WHERE id = ? AND camera_id = ?"+r.d.forUpdate, id, cameraID))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM holds WHERE id = ?", id)
		return err
	})
	return h, err
}

// SetOrgQuota sets orgID's storage quota and returns the old one.
func (r *directory) SetOrgQuota(ctx context.Context, orgID string, bytes int64) (int64, error) {
	if bytes < 0 {
		return 0, fmt.Errorf("store: negative storage quota")
	}
	var old int64
	err := r.inTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, "SELECT storage_quota_bytes FROM orgs WHERE id = ?"+r.d.forUpdate, orgID).Scan(&old); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "UPDATE orgs SET storage_quota_bytes = ? WHERE id = ?", bytes, orgID)
		return err
	})
	return old, err
}

// PutOrgStorage stores (replaces) what an organisation uses in a zone.
func (r *directory) PutOrgStorage(ctx context.Context, s OrgStorage) error {
	cols := []string{"org_id", "zone", "used_bytes", "segments", "oldest_us", "updated_us"}
	_, err := r.exec(ctx, r.d.upsert("org_storage", cols[:2], cols, cols[2:]),
		s.OrgID, s.Zone, s.Bytes, s.Segments, toMicros(s.Oldest), toMicros(s.UpdatedAt))
	return err
}

// ListOrgStorage returns orgID's use per zone, by zone.
func (r *directory) ListOrgStorage(ctx context.Context, orgID string) ([]OrgStorage, error) {
	rows, err := r.db.QueryContext(ctx, "SELECT org_id, zone, used_bytes, segments, oldest_us, updated_us FROM org_storage WHERE org_id = ? ORDER BY zone", orgID)
	if err != nil {
		return nil, r.mapErr(err)
	}
	return collect(rows, r.mapErr, func(rows *sql.Rows) (OrgStorage, error) {
		var s OrgStorage
		var oldest, updated int64
		err := rows.Scan(&s.OrgID, &s.Zone, &s.Bytes, &s.Segments, &oldest, &updated)
		s.Oldest, s.UpdatedAt = fromMicros(oldest), fromMicros(updated)
		return s, err
	})
}
