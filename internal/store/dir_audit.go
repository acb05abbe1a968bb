package store

import (
	"context"
	"database/sql"
)

// auditCols is the column list scanAudit reads.
const auditCols = "seq, time_us, actor, actor_as, address, action, target, org_id, camera_id, detail, prev_hash, hash"

// Audit listing bounds: the default and the most entries one ListAudit returns.
const (
	defaultAuditLimit = 1000
	maxAuditLimit     = 10000
	auditScanBatch    = 1000
)

// scanAudit reads one row of auditCols.
func scanAudit(row interface{ Scan(...any) error }) (AuditEntry, error) {
	var e AuditEntry
	var at int64
	err := row.Scan(&e.Seq, &at, &e.Actor, &e.ActorAs, &e.Address, &e.Action, &e.Target, &e.OrgID, &e.CameraID, &e.Detail, &e.PrevHash, &e.Hash)
	e.Time = fromMicros(at)
	return e, err
}

// AppendAudit stores e as given; ErrConflict when its Seq is taken.
func (r *directory) AppendAudit(ctx context.Context, e AuditEntry) error {
	var c check
	c.ok(e.Seq > 0, "audit seq must be positive")
	c.str("audit actor", e.Actor, maxKey, false)
	c.str("audit actor_as", e.ActorAs, maxKey, false)
	c.str("audit address", e.Address, maxKey, false)
	c.str("audit action", e.Action, maxKey, true)
	c.str("audit target", e.Target, maxText, false)
	c.str("audit org id", e.OrgID, maxID, false)
	c.str("audit camera id", e.CameraID, maxID, false)
	c.str("audit detail", e.Detail, maxText, false)
	c.str("audit prev hash", e.PrevHash, maxKey, false)
	c.str("audit hash", e.Hash, maxKey, false)
	if c.err != nil {
		return c.err
	}
	_, err := r.exec(ctx, "INSERT INTO audit_log ("+auditCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		e.Seq, toMicros(e.Time), e.Actor, e.ActorAs, e.Address, e.Action, e.Target, e.OrgID, e.CameraID, e.Detail, e.PrevHash, e.Hash)
	return err
}

// LastAudit returns the entry with the highest Seq, or ErrNotFound.
func (r *directory) LastAudit(ctx context.Context) (AuditEntry, error) {
	e, err := scanAudit(r.db.QueryRowContext(ctx, "SELECT "+auditCols+" FROM audit_log ORDER BY seq DESC LIMIT 1"))
	return e, r.mapErr(err)
}

// ListAudit returns the entries matching f, newest (highest Seq) first: at
// most f.Limit, 1000 when unset, never more than 10000. From is inclusive,
// To exclusive.
func (r *directory) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	var c conds
	if !f.From.IsZero() {
		c.add("time_us >= ?", toMicros(f.From))
	}
	if !f.To.IsZero() {
		c.add("time_us < ?", toMicros(f.To))
	}
	if f.Actor != "" {
		c.add("actor = ?", f.Actor)
	}
	if f.CameraID != "" {
		c.add("camera_id = ?", f.CameraID)
	}
	if ok, err := c.orgs(f.OrgIDs); !ok || err != nil {
		return nil, err
	}
	q := "SELECT " + auditCols + " FROM audit_log" + c.where() + " ORDER BY seq DESC LIMIT ?"
	args := append(c.args, clampLimit(f.Limit, defaultAuditLimit, maxAuditLimit))
	return r.audit(ctx, q, args...)
}

// ScanAudit calls fn for every entry in Seq order, reading in batches so
// that no query stays open while fn runs; it stops at fn's first error.
func (r *directory) ScanAudit(ctx context.Context, fn func(AuditEntry) error) error {
	after := int64(-1 << 63)
	for {
		batch, err := r.audit(ctx, "SELECT "+auditCols+" FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?", after, auditScanBatch)
		if err != nil {
			return err
		}
		for _, e := range batch {
			if err := fn(e); err != nil {
				return err
			}
			after = e.Seq
		}
		if len(batch) < auditScanBatch {
			return nil
		}
	}
}

func (r *directory) audit(ctx context.Context, q string, args ...any) ([]AuditEntry, error) {
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, r.mapErr(err)
	}
	return collect(rows, r.mapErr, func(rows *sql.Rows) (AuditEntry, error) { return scanAudit(rows) })
}
