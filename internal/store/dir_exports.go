package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// EvidenceKey is the deployment's evidence signing key: the public half
// (base64 of the 32-byte Ed25519 key) and the private half as stored
// (sealed).
type EvidenceKey struct {
	ID            string
	PublicKey     string
	PrivateSealed string
	CreatedAt     time.Time
}

// Export job states.
const (
	ExportQueued  = "queued"
	ExportRunning = "running"
	ExportReady   = "ready"
	ExportFailed  = "failed"
)

// Export is one export job of a camera's recorded range.
type Export struct {
	ID, OrgID, CameraID, Zone string
	From, To                  time.Time
	Evidence, Watermark       bool
	State                     string
	// Progress is in per mille (0..1000).
	Progress int
	Error    string
	// AuditSeq is the sequence number of the audit entry of the export's
	// creation.
	AuditSeq int64
	// ObjectKey, Size and SHA256 describe the finished package in the
	// zone's object store.
	ObjectKey  string
	Size       int64
	SHA256     string
	LeaseOwner string
	LeaseUntil time.Time
	// Attempts counts the claims of the job (a node that died while
	// running it leaves one behind).
	Attempts     int
	CreatedBy    string
	CreatedEmail string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	ExpiresAt    time.Time
}

// ExportStore keeps the evidence key and the export jobs.
type ExportStore interface {
	// EvidenceKey returns the key id or ErrNotFound.
	EvidenceKey(ctx context.Context, id string) (EvidenceKey, error)
	// AddEvidenceKey stores k unless a key with its id exists, and
	// returns the key stored (k, or the one another node stored first).
	AddEvidenceKey(ctx context.Context, k EvidenceKey) (EvidenceKey, error)
	// CreateExport stores a queued job; ErrLimit when the organisation
	// has maxActive jobs queued or running already (counted and written
	// in one transaction).
	CreateExport(ctx context.Context, e Export, maxActive int) error
	GetExport(ctx context.Context, id string) (Export, error)
	// ListExports returns a camera's newest jobs, up to limit (at most 100).
	ListExports(ctx context.Context, cameraID string, limit int) ([]Export, error)
	// ClaimExport gives owner the lease, until until, of the oldest
	// queued or running job that is unleased or whose lease expired at
	// now, counting an attempt; false when there is none.
	ClaimExport(ctx context.Context, owner string, until, now time.Time) (Export, bool, error)
	// SaveExport writes e's state, progress, error, package, expiry and
	// attempts and renews owner's lease until until (released when until is zero),
	// if owner still holds it; else ErrNotFound and nothing is written.
	SaveExport(ctx context.Context, e Export, owner string, until time.Time) error
	// ExpiredExports returns up to limit jobs that expired before now.
	ExpiredExports(ctx context.Context, now time.Time, limit int) ([]Export, error)
	DeleteExport(ctx context.Context, id string) error
}

const evidenceKeyCols = "id, public_key, private_key, created_us"

func scanEvidenceKey(row interface{ Scan(...any) error }) (EvidenceKey, error) {
	var k EvidenceKey
	var created int64
	err := row.Scan(&k.ID, &k.PublicKey, &k.PrivateSealed, &created)
	k.CreatedAt = fromMicros(created)
	return k, err
}

// EvidenceKey returns the key id.
func (r *directory) EvidenceKey(ctx context.Context, id string) (EvidenceKey, error) {
	k, err := scanEvidenceKey(r.db.QueryRowContext(ctx, "SELECT "+evidenceKeyCols+" FROM evidence_keys WHERE id = ?", id))
	return k, r.mapErr(err)
}

// AddEvidenceKey inserts k unless its id is taken; the stored key wins.
func (r *directory) AddEvidenceKey(ctx context.Context, k EvidenceKey) (EvidenceKey, error) {
	var c check
	c.id("evidence key id", k.ID)
	c.str("evidence public key", k.PublicKey, maxKey, true)
	c.str("evidence private key", k.PrivateSealed, maxText, true)
	if c.err != nil {
		return EvidenceKey{}, c.err
	}
	_, err := r.exec(ctx, "INSERT INTO evidence_keys ("+evidenceKeyCols+") VALUES (?, ?, ?, ?)", k.ID, k.PublicKey, k.PrivateSealed, toMicros(k.CreatedAt))
	if err != nil && !isConflict(err) {
		return EvidenceKey{}, err
	}
	return r.EvidenceKey(ctx, k.ID)
}

const exportCols = "id, org_id, camera_id, zone, from_us, to_us, evidence, watermark, state, progress, error, audit_seq, object_key, size, sha256, " +
	"lease_owner, lease_until_us, attempts, created_by, created_email, created_us, updated_us, expires_us"

func scanExport(row interface{ Scan(...any) error }) (Export, error) {
	var e Export
	var from, to, until, created, updated, expires int64
	err := row.Scan(&e.ID, &e.OrgID, &e.CameraID, &e.Zone, &from, &to, &e.Evidence, &e.Watermark, &e.State, &e.Progress, &e.Error,
		&e.AuditSeq, &e.ObjectKey, &e.Size, &e.SHA256, &e.LeaseOwner, &until, &e.Attempts, &e.CreatedBy, &e.CreatedEmail,
		&created, &updated, &expires)
	e.From, e.To, e.LeaseUntil = fromMicros(from), fromMicros(to), fromMicros(until)
	e.CreatedAt, e.UpdatedAt, e.ExpiresAt = fromMicros(created), fromMicros(updated), fromMicros(expires)
	return e, err
}

func checkExport(e Export) error {
	var c check
	c.id("export id", e.ID)
	c.id("org id", e.OrgID)
	c.id("camera id", e.CameraID)
	c.id("zone", e.Zone)
	c.id("export state", e.State)
	c.str("export error", e.Error, 1000, false)
	c.str("export object key", e.ObjectKey, maxKey, false)
	c.str("export sha256", e.SHA256, maxID, false)
	c.str("export creator", e.CreatedBy, maxID, false)
	c.str("export creator email", e.CreatedEmail, maxKey, false)
	c.ok(e.Progress >= 0 && e.Progress <= 1000, "export progress out of 0..1000")
	return c.err
}

// CreateExport inserts a queued job within the organisation's bound.
func (r *directory) CreateExport(ctx context.Context, e Export, maxActive int) error {
	if err := checkExport(e); err != nil {
		return err
	}
	return r.inTx(ctx, func(tx *sql.Tx) error {
		// The organisation's row serialises creations (MySQL; SQLite's
		// transactions run one at a time anyway).
		var org string
		if err := tx.QueryRowContext(ctx, "SELECT id FROM orgs WHERE id = ?"+r.d.forUpdate, e.OrgID).Scan(&org); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM exports WHERE org_id = ? AND state IN (?, ?)",
			e.OrgID, ExportQueued, ExportRunning).Scan(&n); err != nil {
			return err
		}
		if n >= maxActive {
			return ErrLimit
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO exports ("+exportCols+") VALUES ("+placeholders(23)+")",
			e.ID, e.OrgID, e.CameraID, e.Zone, toMicros(e.From), toMicros(e.To), e.Evidence, e.Watermark, e.State, e.Progress, e.Error,
			e.AuditSeq, e.ObjectKey, e.Size, e.SHA256, e.LeaseOwner, toMicros(e.LeaseUntil), e.Attempts, e.CreatedBy, e.CreatedEmail,
			toMicros(e.CreatedAt), toMicros(e.UpdatedAt), toMicros(e.ExpiresAt))
		return err
	})
}

// GetExport returns job id or ErrNotFound.
func (r *directory) GetExport(ctx context.Context, id string) (Export, error) {
	e, err := scanExport(r.db.QueryRowContext(ctx, "SELECT "+exportCols+" FROM exports WHERE id = ?", id))
	return e, r.mapErr(err)
}

// ListExports returns a camera's newest jobs.
func (r *directory) ListExports(ctx context.Context, cameraID string, limit int) ([]Export, error) {
	rows, err := r.db.QueryContext(ctx, "SELECT "+exportCols+" FROM exports WHERE camera_id = ? ORDER BY created_us DESC, id DESC LIMIT ?",
		cameraID, clampLimit(limit, 20, 100))
	if err != nil {
		return nil, r.mapErr(err)
	}
	return collect(rows, r.mapErr, func(rows *sql.Rows) (Export, error) { return scanExport(rows) })
}

// claimable is the condition of a job a node may take: unleased or its
// lease expired (not the claimer's own: two workers of a node never run
// one job).
const claimable = "state IN (?, ?) AND (lease_owner = '' OR lease_until_us <= ?)"

// ClaimExport leases the oldest claimable job with a conditional UPDATE
// (a racing node's matches nothing, and it tries the next).
func (r *directory) ClaimExport(ctx context.Context, owner string, until, now time.Time) (Export, bool, error) {
	rows, err := r.db.QueryContext(ctx, "SELECT id FROM exports WHERE "+claimable+" ORDER BY created_us LIMIT 8",
		ExportQueued, ExportRunning, toMicros(now))
	if err != nil {
		return Export{}, false, r.mapErr(err)
	}
	ids, err := collect(rows, r.mapErr, func(rows *sql.Rows) (string, error) {
		var id string
		return id, rows.Scan(&id)
	})
	if err != nil {
		return Export{}, false, err
	}
	for _, id := range ids {
		res, err := r.exec(ctx, "UPDATE exports SET lease_owner = ?, lease_until_us = ?, attempts = attempts + 1 WHERE id = ? AND "+claimable,
			owner, toMicros(until), id, ExportQueued, ExportRunning, toMicros(now))
		if err != nil {
			return Export{}, false, err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			continue
		}
		e, err := r.GetExport(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		return e, err == nil, err
	}
	return Export{}, false, nil
}

// SaveExport writes a job's progress under owner's lease.
func (r *directory) SaveExport(ctx context.Context, e Export, owner string, until time.Time) error {
	if err := checkExport(e); err != nil {
		return err
	}
	leaseOwner := owner
	if until.IsZero() {
		leaseOwner = ""
	}
	return r.execOne(ctx, "UPDATE exports SET state = ?, progress = ?, error = ?, object_key = ?, size = ?, sha256 = ?, updated_us = ?, expires_us = ?, "+
		"attempts = ?, lease_owner = ?, lease_until_us = ? WHERE id = ? AND lease_owner = ?",
		e.State, e.Progress, e.Error, e.ObjectKey, e.Size, e.SHA256, toMicros(e.UpdatedAt), toMicros(e.ExpiresAt), e.Attempts,
		leaseOwner, toMicros(until), e.ID, owner)
}

// ExpiredExports lists jobs past their expiry.
func (r *directory) ExpiredExports(ctx context.Context, now time.Time, limit int) ([]Export, error) {
	rows, err := r.db.QueryContext(ctx, "SELECT "+exportCols+" FROM exports WHERE expires_us > 0 AND expires_us <= ? ORDER BY expires_us LIMIT ?",
		toMicros(now), clampLimit(limit, 100, 1000))
	if err != nil {
		return nil, r.mapErr(err)
	}
	return collect(rows, r.mapErr, func(rows *sql.Rows) (Export, error) { return scanExport(rows) })
}

// DeleteExport deletes job id.
func (r *directory) DeleteExport(ctx context.Context, id string) error {
	return r.execOne(ctx, "DELETE FROM exports WHERE id = ?", id)
}
