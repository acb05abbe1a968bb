package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Upload is a pending backfill upload of an edge agent: one segment of
// one camera, sent in chunks staged in the zone's object store, of which
// Offset bytes are acknowledged so far.
type Upload struct {
	ID       string
	CameraID string
	// Start and End are the segment's range as the agent announced it.
	Start, End time.Time
	Size       int64
	SHA256     string // hex SHA-256 of the whole object
	// InitHash names the init segment staged with the upload; empty when
	// the uploaded bytes begin with their init segment.
	InitHash string
	Offset   int64
	Created  time.Time
	Expires  time.Time
}

// UploadStore keeps pending backfill uploads (zone_uploads.go).
type UploadStore interface {
	// CreateUpload stores u, unless its camera has a pending upload of
	// the same start and SHA-256: then it returns that one and false.
	CreateUpload(ctx context.Context, u Upload) (Upload, bool, error)
	// GetUpload returns upload id; ErrNotFound when there is none.
	GetUpload(ctx context.Context, id string) (Upload, error)
	// AdvanceUpload moves upload id's acknowledged offset from from to
	// to in one conditional UPDATE: ErrConflict when its offset is not
	// from (another request advanced it), ErrNotFound when it is gone.
	AdvanceUpload(ctx context.Context, id string, from, to int64) error
	// DeleteUpload removes upload id (missing: not an error).
	DeleteUpload(ctx context.Context, id string) error
	// FinishUpload deletes upload id and indexes s in one transaction
	// (with the camera's segment use); ErrNotFound when the upload is
	// gone (finished or swept by another node), and then nothing is
	// written.
	FinishUpload(ctx context.Context, id string, s Segment) error
	// FinishUploadOver is FinishUpload for a segment s that replaces the
	// indexed segment old (same camera and start: old's video with the
	// upload's appended): ErrConflict, and nothing written, when old's
	// row is no longer as read (another object or size).
	FinishUploadOver(ctx context.Context, id string, s, old Segment) error
	// ExpiredUploads returns up to limit (at most 1000) uploads that
	// expired before now, oldest first.
	ExpiredUploads(ctx context.Context, now time.Time, limit int) ([]Upload, error)
}

const uploadCols = "id, camera_id, start_us, end_us, size, sha256, init_hash, offset_bytes, created_us, expires_us"

func scanUpload(row interface{ Scan(...any) error }) (Upload, error) {
	var u Upload
	var start, end, created, expires int64
	err := row.Scan(&u.ID, &u.CameraID, &start, &end, &u.Size, &u.SHA256, &u.InitHash, &u.Offset, &created, &expires)
	u.Start, u.End, u.Created, u.Expires = fromMicros(start), fromMicros(end), fromMicros(created), fromMicros(expires)
	return u, err
}

func checkUpload(u Upload) error {
	var c check
	c.id("upload id", u.ID)
	c.id("camera id", u.CameraID)
	c.id("sha256", u.SHA256)
	c.str("init hash", u.InitHash, maxID, false)
	c.ok(!u.Start.IsZero() && u.End.After(u.Start) && u.End.Sub(u.Start) <= MaxSegmentDuration, "upload range empty or too long")
	c.ok(u.Size > 0 && u.Offset >= 0 && u.Offset <= u.Size, "upload size or offset out of range")
	c.ok(!u.Expires.IsZero(), "upload without expiry")
	return c.err
}

// CreateUpload inserts u; a racing insert of the same key loses on the
// unique index and returns the winner's row.
func (r *zone) CreateUpload(ctx context.Context, u Upload) (Upload, bool, error) {
	if err := checkUpload(u); err != nil {
		return Upload{}, false, err
	}
	find := func() (Upload, error) {
		got, err := scanUpload(r.db.QueryRowContext(ctx, "SELECT "+uploadCols+
			" FROM agent_uploads WHERE camera_id = ? AND start_us = ? AND sha256 = ?", u.CameraID, toMicros(u.Start), u.SHA256))
		return got, r.mapErr(err)
	}
	if got, err := find(); err == nil {
		return got, false, nil
	} else if !errors.Is(err, ErrNotFound) {
		return Upload{}, false, err
	}
	_, err := r.exec(ctx, "INSERT INTO agent_uploads ("+uploadCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		u.ID, u.CameraID, toMicros(u.Start), toMicros(u.End), u.Size, u.SHA256, u.InitHash, u.Offset, toMicros(u.Created), toMicros(u.Expires))
	if isConflict(err) {
		got, ferr := find()
		return got, false, ferr
	}
	if err != nil {
		return Upload{}, false, err
	}
	return u, true, nil
}

// GetUpload reads one upload by id.
func (r *zone) GetUpload(ctx context.Context, id string) (Upload, error) {
	u, err := scanUpload(r.db.QueryRowContext(ctx, "SELECT "+uploadCols+" FROM agent_uploads WHERE id = ?", id))
	return u, r.mapErr(err)
}

// AdvanceUpload is one UPDATE fenced on the offset: of two requests that
// read the same offset, one moves it.
func (r *zone) AdvanceUpload(ctx context.Context, id string, from, to int64) error {
	err := r.execOne(ctx, "UPDATE agent_uploads SET offset_bytes = ? WHERE id = ? AND offset_bytes = ? AND ? <= size", to, id, from, to)
	if !errors.Is(err, ErrNotFound) {
		return err
	}
	if _, gerr := r.GetUpload(ctx, id); gerr != nil {
		return gerr
	}
	return ErrConflict
}

// DeleteUpload deletes one upload row.
func (r *zone) DeleteUpload(ctx context.Context, id string) error {
	_, err := r.exec(ctx, "DELETE FROM agent_uploads WHERE id = ?", id)
	return err
}

// FinishUpload deletes the upload row and writes the segment row together.
func (r *zone) FinishUpload(ctx context.Context, id string, s Segment) error {
	return r.inTx(ctx, func(tx *sql.Tx) error {
		if err := r.deleteUploadRow(ctx, tx, id); err != nil {
			return err
		}
		return r.insertSegment(ctx, tx, s)
	})
}

// FinishUploadOver deletes the upload row and replaces old's segment row
// with s, fenced on old's object key and size.
func (r *zone) FinishUploadOver(ctx context.Context, id string, s, old Segment) error {
	if s.CameraID != old.CameraID || !s.Start.Equal(old.Start) {
		return fmt.Errorf("store: segment %s@%s does not replace %s@%s", s.CameraID, s.Start, old.CameraID, old.Start)
	}
	return r.inTx(ctx, func(tx *sql.Tx) error {
		if err := r.deleteUploadRow(ctx, tx, id); err != nil {
			return err
		}
		var key string
		var size int64
		switch err := tx.QueryRowContext(ctx, "SELECT obj_key, size FROM segments WHERE camera_id = ? AND start_us = ?"+r.d.forUpdate,
			old.CameraID, toMicros(old.Start)).Scan(&key, &size); {
		case errors.Is(err, sql.ErrNoRows):
			return ErrConflict
		case err != nil:
			return r.mapErr(err)
		case key != old.Key || size != old.Size:
			return ErrConflict
		}
		return r.insertSegment(ctx, tx, s)
	})
}

// deleteUploadRow deletes upload id in tx; ErrNotFound when it is gone.
func (r *zone) deleteUploadRow(ctx context.Context, tx *sql.Tx, id string) error {
	res, err := tx.ExecContext(ctx, "DELETE FROM agent_uploads WHERE id = ?", id)
	if err != nil {
		return r.mapErr(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return r.mapErr(err)
	} else if n == 0 {
		return ErrNotFound
	}
	return nil
}

// ExpiredUploads lists uploads past their expiry by the expires index.
func (r *zone) ExpiredUploads(ctx context.Context, now time.Time, limit int) ([]Upload, error) {
	rows, err := r.db.QueryContext(ctx, "SELECT "+uploadCols+" FROM agent_uploads WHERE expires_us < ? ORDER BY expires_us LIMIT ?",
		toMicros(now), clampLimit(limit, 100, 1000))
	if err != nil {
		return nil, r.mapErr(err)
	}
	return collect(rows, r.mapErr, func(rows *sql.Rows) (Upload, error) { return scanUpload(rows) })
}
