package backfill

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/camcloud/camcloud/internal/store"
)

// State is the agent's own backfill bookkeeping, in a SQLite file of its
// data directory (backfill.db, next to the ring buffer's index.db, which
// keeps the zone schema): the upload in progress of each segment (its
// upload id and the offset the cloud acknowledged), the segments the
// cloud refused for good, the segments the ring buffer dropped that are
// still to be checked against the cloud and reported as lost, and the
// gaps the worker remembers.
type State struct {
	db *sql.DB
}

// stateMigrations are the file's schema versions, in order; applied ones
// are recorded in backfill_migrations. Never edit one: append.
var stateMigrations = []string{
	// 1: uploads in progress, refusals, drops to report.
	`CREATE TABLE backfill_uploads (
		camera TEXT NOT NULL, start_us INTEGER NOT NULL, sha256 TEXT NOT NULL,
		upload_id TEXT NOT NULL, acked INTEGER NOT NULL, size INTEGER NOT NULL, chunk INTEGER NOT NULL,
		PRIMARY KEY (camera, start_us));
	CREATE TABLE backfill_refused (
		camera TEXT NOT NULL, start_us INTEGER NOT NULL, sha256 TEXT NOT NULL, reason TEXT NOT NULL, at_us INTEGER NOT NULL,
		PRIMARY KEY (camera, start_us, sha256));
	CREATE TABLE backfill_dropped (
		camera TEXT NOT NULL, start_us INTEGER NOT NULL, end_us INTEGER NOT NULL, size INTEGER NOT NULL,
		PRIMARY KEY (camera, start_us));`,
	// 2: the gaps the cloud reported, less what was stored since (the
	// worker's memory of them, kept across restarts).
	`CREATE TABLE backfill_gaps (
		camera TEXT NOT NULL, start_us INTEGER NOT NULL, end_us INTEGER NOT NULL,
		PRIMARY KEY (camera, start_us));`,
}

// OpenState opens (creating it, mode 0600) the state file at path and
// brings its schema up to date.
func OpenState(ctx context.Context, path string) (*State, error) {
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600); err != nil {
		return nil, fmt.Errorf("backfill: state file: %w", err)
	} else {
		_ = f.Close()
	}
	driver, source, err := store.ParseDSN("sqlite:" + path)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open(driver, source)
	if err != nil {
		return nil, fmt.Errorf("backfill: state file: %w", err)
	}
	db.SetMaxOpenConns(1) // one writer; the file is the agent's alone
	if err := migrateState(ctx, db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("backfill: state file %s: %w", path, err)
	}
	return &State{db: db}, nil
}

func migrateState(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS backfill_migrations (version INTEGER PRIMARY KEY, applied_us INTEGER NOT NULL)`); err != nil {
		return err
	}
	var have int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM backfill_migrations`).Scan(&have); err != nil {
		return err
	}
	if have > len(stateMigrations) {
		return fmt.Errorf("schema version %d is newer than this agent knows (%d): an older agent binary?", have, len(stateMigrations))
	}
	for v := have + 1; v <= len(stateMigrations); v++ {
		if _, err := tx.ExecContext(ctx, stateMigrations[v-1]); err != nil {
			return fmt.Errorf("migration %d: %w", v, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO backfill_migrations (version, applied_us) VALUES (?, ?)`, v, time.Now().UnixMicro()); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Close closes the file.
func (st *State) Close() error { return st.db.Close() }

// Upload is a segment's upload in progress.
type Upload struct {
	Camera string
	Start  time.Time
	SHA256 string
	ID     string
	Acked  int64 // bytes the cloud acknowledged
	Size   int64
	Chunk  int64
}

// Upload returns the upload in progress of the segment of cam starting at
// start, if any.
func (st *State) Upload(ctx context.Context, cam string, start time.Time) (Upload, bool, error) {
	u := Upload{Camera: cam, Start: start}
	err := st.db.QueryRowContext(ctx, `SELECT sha256, upload_id, acked, size, chunk FROM backfill_uploads WHERE camera = ? AND start_us = ?`,
		cam, start.UnixMicro()).Scan(&u.SHA256, &u.ID, &u.Acked, &u.Size, &u.Chunk)
	if errors.Is(err, sql.ErrNoRows) {
		return Upload{}, false, nil
	}
	return u, err == nil, err
}

// maxPendingRead bounds the uploads Pending reads.
const maxPendingRead = 1000

// Pending lists the uploads in progress (at most maxPendingRead).
func (st *State) Pending(ctx context.Context) ([]Upload, error) {
	rows, err := st.db.QueryContext(ctx, `SELECT camera, start_us, sha256, upload_id, acked, size, chunk FROM backfill_uploads
		ORDER BY camera, start_us LIMIT ?`, maxPendingRead)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Upload
	for rows.Next() {
		var u Upload
		var us int64
		if err := rows.Scan(&u.Camera, &us, &u.SHA256, &u.ID, &u.Acked, &u.Size, &u.Chunk); err != nil {
			return nil, err
		}
		u.Start = time.UnixMicro(us).UTC()
		out = append(out, u)
	}
	return out, rows.Err()
}

// SaveUpload records u (a new upload, or its new acknowledged offset).
func (st *State) SaveUpload(ctx context.Context, u Upload) error {
	_, err := st.db.ExecContext(ctx, `INSERT INTO backfill_uploads (camera, start_us, sha256, upload_id, acked, size, chunk) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (camera, start_us) DO UPDATE SET sha256 = excluded.sha256, upload_id = excluded.upload_id, acked = excluded.acked,
		size = excluded.size, chunk = excluded.chunk`,
		u.Camera, u.Start.UnixMicro(), u.SHA256, u.ID, u.Acked, u.Size, u.Chunk)
	return err
}

// ForgetUpload removes the upload of a segment (done, refused or gone).
func (st *State) ForgetUpload(ctx context.Context, cam string, start time.Time) error {
	_, err := st.db.ExecContext(ctx, `DELETE FROM backfill_uploads WHERE camera = ? AND start_us = ?`, cam, start.UnixMicro())
	return err
}

// Refuse records that the cloud refused a segment for good (reason is
// the cloud's error), so that it is not sent again.
func (st *State) Refuse(ctx context.Context, cam string, start time.Time, sha, reason string) error {
	if len(reason) > 500 {
		reason = reason[:500]
	}
	_, err := st.db.ExecContext(ctx, `INSERT OR REPLACE INTO backfill_refused (camera, start_us, sha256, reason, at_us) VALUES (?, ?, ?, ?, ?)`,
		cam, start.UnixMicro(), sha, reason, time.Now().UnixMicro())
	return err
}

// Refused tells the start times (Unix microseconds) of cam's refused
// segments.
func (st *State) Refused(ctx context.Context, cam string) (map[int64]bool, error) {
	rows, err := st.db.QueryContext(ctx, `SELECT start_us FROM backfill_refused WHERE camera = ?`, cam)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var us int64
		if err := rows.Scan(&us); err != nil {
			return nil, err
		}
		out[us] = true
	}
	return out, rows.Err()
}

// AddDropped records segments the ring buffer dropped, to be checked
// against the cloud and reported as lost when it did not have them.
func (st *State) AddDropped(ctx context.Context, segs []store.Segment) error {
	tx, err := st.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	for _, s := range segs {
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO backfill_dropped (camera, start_us, end_us, size) VALUES (?, ?, ?, ?)`,
			s.CameraID, s.Start.UnixMicro(), s.End.UnixMicro(), s.Size); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM backfill_uploads WHERE camera = ? AND start_us = ?`, s.CameraID, s.Start.UnixMicro()); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// maxDroppedRead bounds the drops read at once.
const maxDroppedRead = 10000

// Dropped returns the drops still to be reported, per camera, in order
// of start.
func (st *State) Dropped(ctx context.Context) (map[string][]store.Segment, error) {
	rows, err := st.db.QueryContext(ctx, `SELECT camera, start_us, end_us, size FROM backfill_dropped ORDER BY camera, start_us LIMIT ?`, maxDroppedRead)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]store.Segment{}
	for rows.Next() {
		var s store.Segment
		var a, b int64
		if err := rows.Scan(&s.CameraID, &a, &b, &s.Size); err != nil {
			return nil, err
		}
		s.Start, s.End = time.UnixMicro(a).UTC(), time.UnixMicro(b).UTC()
		out[s.CameraID] = append(out[s.CameraID], s)
	}
	return out, rows.Err()
}

// ForgetDropped removes drops once reported (or found in the cloud).
func (st *State) ForgetDropped(ctx context.Context, segs []store.Segment) error {
	tx, err := st.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	for _, s := range segs {
		if _, err := tx.ExecContext(ctx, `DELETE FROM backfill_dropped WHERE camera = ? AND start_us = ?`, s.CameraID, s.Start.UnixMicro()); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Gaps returns the gaps remembered for cam, in order of start.
func (st *State) Gaps(ctx context.Context, cam string) ([]store.Span, error) {
	rows, err := st.db.QueryContext(ctx, `SELECT start_us, end_us FROM backfill_gaps WHERE camera = ? ORDER BY start_us LIMIT ?`, cam, maxGaps)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Span
	for rows.Next() {
		var a, b int64
		if err := rows.Scan(&a, &b); err != nil {
			return nil, err
		}
		out = append(out, store.Span{Start: time.UnixMicro(a).UTC(), End: time.UnixMicro(b).UTC()})
	}
	return out, rows.Err()
}

// SaveGaps replaces the gaps remembered for cam with gaps.
func (st *State) SaveGaps(ctx context.Context, cam string, gaps []store.Span) error {
	tx, err := st.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `DELETE FROM backfill_gaps WHERE camera = ?`, cam); err != nil {
		return err
	}
	for _, g := range gaps {
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO backfill_gaps (camera, start_us, end_us) VALUES (?, ?, ?)`,
			cam, g.Start.UnixMicro(), g.End.UnixMicro()); err != nil {
			return err
		}
	}
	return tx.Commit()
}
