package store

import (
	"context"
	"database/sql"
	"time"
)

// Share is a share link: a camera's recorded range [From, To) or its live
// view (Live), for whoever holds the link's token until Expires, unless
// revoked. Only the token's hash is stored.
type Share struct {
	ID       string
	OrgID    string
	CameraID string
	Live     bool
	From, To time.Time // zero for a live link
	// TokenHash is auth.HashToken of the token; PasswordHash the argon2id
	// hash of the link's password ("" when it has none).
	TokenHash     string
	PasswordHash  string
	AllowDownload bool
	// MaxViews bounds how often the link may be opened (0: no bound);
	// Views counts the openings so far.
	MaxViews  int
	Views     int
	Note      string
	CreatedBy string // user id
	// CreatedByEmail is shown to holders ("shared by ...").
	CreatedByEmail string
	CreatedAt      time.Time
	Expires        time.Time
	// Revoked is when the link was revoked (zero while it is not), and
	// RevokedBy by whom.
	Revoked   time.Time
	RevokedBy string
}

// Share bounds the repository checks.
const (
	// MaxSharesPerOrg bounds an organisation's links that are neither
	// expired nor revoked.
	MaxSharesPerOrg = 1000
	// MaxShareNote bounds a link's note in bytes.
	MaxShareNote = 2000
	// ShareKeep is how long an expired or revoked link is still listed
	// before it is deleted (when its organisation next creates one).
	ShareKeep = 30 * 24 * time.Hour
)

// ShareStore keeps share links.
type ShareStore interface {
	// CreateShare stores s; ErrLimit when its organisation has
	// MaxSharesPerOrg links live at s.CreatedAt. Links of the
	// organisation that ended more than ShareKeep ago are deleted in the
	// same transaction.
	CreateShare(ctx context.Context, s Share) error
	// GetShare returns link id, GetShareByToken the link of a token hash;
	// ErrNotFound when there is none.
	GetShare(ctx context.Context, id string) (Share, error)
	GetShareByToken(ctx context.Context, tokenHash string) (Share, error)
	// ListShares returns the links of orgIDs, newest first, at most limit.
	ListShares(ctx context.Context, orgIDs []string, limit int) ([]Share, error)
	// RevokeShare marks link id revoked at at by by; false when it was
	// revoked already. ErrNotFound when there is none.
	RevokeShare(ctx context.Context, id, by string, at time.Time) (bool, error)
	// UseShareView counts one opening of link id if it is neither revoked
	// nor expired at now and under its view limit, in one conditional
	// write; false when it is not (nothing counted).
	UseShareView(ctx context.Context, id string, now time.Time) (bool, error)
}

// shareCols is the column list scanShare reads.
const shareCols = "id, org_id, camera_id, live, from_us, to_us, token_hash, password_hash, allow_download, max_views, views, note, " +
	"created_by, created_by_email, created_us, expires_us, revoked_us, revoked_by"

func scanShare(row interface{ Scan(...any) error }) (Share, error) {
	var s Share
	var from, to, created, expires, revoked int64
	err := row.Scan(&s.ID, &s.OrgID, &s.CameraID, &s.Live, &from, &to, &s.TokenHash, &s.PasswordHash, &s.AllowDownload,
		&s.MaxViews, &s.Views, &s.Note, &s.CreatedBy, &s.CreatedByEmail, &created, &expires, &revoked, &s.RevokedBy)
	s.From, s.To, s.CreatedAt, s.Expires, s.Revoked = fromMicros(from), fromMicros(to), fromMicros(created), fromMicros(expires), fromMicros(revoked)
	return s, err
}

// checkShare validates s before it is written.
func checkShare(s Share) error {
	var c check
	c.id("share id", s.ID)
	c.id("org id", s.OrgID)
	c.id("camera id", s.CameraID)
	c.str("share token hash", s.TokenHash, maxKey, true)
	c.str("share password hash", s.PasswordHash, maxKey, false)
	c.str("share note", s.Note, MaxShareNote, false)
	c.str("share creator", s.CreatedBy, maxID, false)
	c.str("share creator email", s.CreatedByEmail, maxKey, false)
	c.ok(s.MaxViews >= 0, "a share's view limit is negative")
	c.ok(!s.Expires.IsZero() && !s.CreatedAt.IsZero(), "a share needs a creation and an expiry")
	c.ok(s.Live == s.From.IsZero() && s.From.IsZero() == s.To.IsZero(), "a share has a range, or is live")
	c.ok(s.Live || s.To.After(s.From), "a share's range ends before it starts")
	return c.err
}

// CreateShare stores s within its organisation's bound.
func (r *directory) CreateShare(ctx context.Context, s Share) error {
	if err := checkShare(s); err != nil {
		return err
	}
	now := toMicros(s.CreatedAt)
	return r.inTx(ctx, func(tx *sql.Tx) error {
		// The organisation's row serialises creations (MySQL; SQLite's
		// transactions run one at a time anyway).
		var org string
		if err := tx.QueryRowContext(ctx, "SELECT id FROM orgs WHERE id = ?"+r.d.forUpdate, s.OrgID).Scan(&org); err != nil {
			return err
		}
		old := toMicros(s.CreatedAt.Add(-ShareKeep))
		if _, err := tx.ExecContext(ctx, "DELETE FROM shares WHERE org_id = ? AND (expires_us < ? OR (revoked_us <> 0 AND revoked_us < ?))",
			s.OrgID, old, old); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM shares WHERE org_id = ? AND revoked_us = 0 AND expires_us > ?",
			s.OrgID, now).Scan(&n); err != nil {
			return err
		}
		if n >= MaxSharesPerOrg {
			return ErrLimit
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO shares ("+shareCols+") VALUES ("+placeholders(18)+")",
			s.ID, s.OrgID, s.CameraID, s.Live, toMicros(s.From), toMicros(s.To), s.TokenHash, s.PasswordHash, s.AllowDownload,
			s.MaxViews, 0, s.Note, s.CreatedBy, s.CreatedByEmail, now, toMicros(s.Expires), 0, "")
		return err
	})
}

// GetShare returns link id or ErrNotFound.
func (r *directory) GetShare(ctx context.Context, id string) (Share, error) {
	s, err := scanShare(r.db.QueryRowContext(ctx, "SELECT "+shareCols+" FROM shares WHERE id = ?", id))
	return s, r.mapErr(err)
}

// GetShareByToken returns the link whose token hashes to tokenHash.
func (r *directory) GetShareByToken(ctx context.Context, tokenHash string) (Share, error) {
	s, err := scanShare(r.db.QueryRowContext(ctx, "SELECT "+shareCols+" FROM shares WHERE token_hash = ?", tokenHash))
	return s, r.mapErr(err)
}

// ListShares returns the links of orgIDs, newest first.
func (r *directory) ListShares(ctx context.Context, orgIDs []string, limit int) ([]Share, error) {
	if len(orgIDs) == 0 {
		return nil, nil
	}
	in, args, err := inList(orgIDs)
	if err != nil {
		return nil, err
	}
	rows, err := r.db.QueryContext(ctx, "SELECT "+shareCols+" FROM shares WHERE org_id IN ("+in+") ORDER BY created_us DESC, id LIMIT ?",
		append(args, limit)...)
	if err != nil {
		return nil, r.mapErr(err)
	}
	return collect(rows, r.mapErr, func(rows *sql.Rows) (Share, error) { return scanShare(rows) })
}

// RevokeShare marks a link revoked unless it is already.
func (r *directory) RevokeShare(ctx context.Context, id, by string, at time.Time) (bool, error) {
	res, err := r.exec(ctx, "UPDATE shares SET revoked_us = ?, revoked_by = ? WHERE id = ? AND revoked_us = 0", toMicros(at), by, id)
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return n > 0, err
	}
	if _, err := r.GetShare(ctx, id); err != nil {
		return false, err
	}
	return false, nil
}

// UseShareView counts an opening of a usable link.
func (r *directory) UseShareView(ctx context.Context, id string, now time.Time) (bool, error) {
	res, err := r.exec(ctx, "UPDATE shares SET views = views + 1 WHERE id = ? AND revoked_us = 0 AND expires_us > ? AND (max_views = 0 OR views < max_views)",
		id, toMicros(now))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
