package store

import (
	"context"
	"database/sql"
	"time"
)

// sessionCols is the column list scanSession reads.
const sessionCols = "token_hash, user_id, created_us, expires_us, acting_org_id, acting_role"

// checkSession validates s before it is written.
func checkSession(s Session) error {
	var c check
	c.str("token hash", s.TokenHash, maxKey, true)
	c.id("user id", s.UserID)
	c.str("acting org id", s.ActingOrgID, maxID, false)
	c.str("acting role", s.ActingRole, maxID, false)
	return c.err
}

// CreateSession stores a new session; ErrNotFound if its user does not exist.
func (r *directory) CreateSession(ctx context.Context, s Session) error {
	if err := checkSession(s); err != nil {
		return err
	}
	_, err := r.exec(ctx, "INSERT INTO sessions ("+sessionCols+") VALUES (?, ?, ?, ?, ?, ?)",
		s.TokenHash, s.UserID, toMicros(s.CreatedAt), toMicros(s.ExpiresAt), s.ActingOrgID, s.ActingRole)
	return err
}

// GetSession returns a session by token hash, expired or not, or ErrNotFound.
func (r *directory) GetSession(ctx context.Context, tokenHash string) (Session, error) {
	var s Session
	var created, expires int64
	err := r.db.QueryRowContext(ctx, "SELECT "+sessionCols+" FROM sessions WHERE token_hash = ?", tokenHash).
		Scan(&s.TokenHash, &s.UserID, &created, &expires, &s.ActingOrgID, &s.ActingRole)
	s.CreatedAt, s.ExpiresAt = fromMicros(created), fromMicros(expires)
	return s, r.mapErr(err)
}

// UpdateSession rewrites a session's expiry and acting role, or ErrNotFound.
func (r *directory) UpdateSession(ctx context.Context, s Session) error {
	if err := checkSession(s); err != nil {
		return err
	}
	return r.execOne(ctx, "UPDATE sessions SET expires_us = ?, acting_org_id = ?, acting_role = ? WHERE token_hash = ?",
		toMicros(s.ExpiresAt), s.ActingOrgID, s.ActingRole, s.TokenHash)
}

// DeleteSession removes a session; deleting a missing one is not an error
// (logging out twice).
func (r *directory) DeleteSession(ctx context.Context, tokenHash string) error {
	_, err := r.exec(ctx, "DELETE FROM sessions WHERE token_hash = ?", tokenHash)
	return err
}

// DeleteExpiredSessions removes sessions that expired at or before now and
// returns how many.
func (r *directory) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := r.exec(ctx, "DELETE FROM sessions WHERE expires_us <= ?", toMicros(now))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return n, r.mapErr(err)
}

// DeleteUserSessions ends a user's sessions but keep.
func (r *directory) DeleteUserSessions(ctx context.Context, userID, keep string) (int64, error) {
	res, err := r.exec(ctx, "DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?", userID, keep)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return n, r.mapErr(err)
}

// apiKeyCols is the column list scanAPIKey reads.
const apiKeyCols = "id, user_id, name, prefix, hash, created_us, last_used_us, scope, expires_us"

// scanAPIKey reads one row of apiKeyCols.
func scanAPIKey(row interface{ Scan(...any) error }) (APIKey, error) {
	var k APIKey
	var created, expires int64
	var used sql.NullInt64
	err := row.Scan(&k.ID, &k.UserID, &k.Name, &k.Prefix, &k.Hash, &created, &used, &k.Scope, &expires)
	k.CreatedAt, k.ExpiresAt = fromMicros(created), fromMicros(expires)
	if used.Valid {
		t := fromMicros(used.Int64)
		k.LastUsed = &t
	}
	return k, err
}

// CreateAPIKey stores a new key; ErrConflict on a taken id or hash,
// ErrNotFound if its user does not exist.
func (r *directory) CreateAPIKey(ctx context.Context, k APIKey) error {
	var c check
	c.id("API key id", k.ID)
	c.id("user id", k.UserID)
	c.str("API key name", k.Name, maxKey, false)
	c.str("API key prefix", k.Prefix, maxKey, false)
	c.str("API key hash", k.Hash, maxKey, true)
	if k.Scope == "" {
		k.Scope = ScopeFull
	}
	c.ok(k.Scope == ScopeFull || k.Scope == ScopeRead, "API key scope must be full or read")
	if c.err != nil {
		return c.err
	}
	var used any
	if k.LastUsed != nil {
		used = toMicros(*k.LastUsed)
	}
	_, err := r.exec(ctx, "INSERT INTO api_keys ("+apiKeyCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		k.ID, k.UserID, k.Name, k.Prefix, k.Hash, toMicros(k.CreatedAt), used, k.Scope, toMicros(k.ExpiresAt))
	return err
}

// GetAPIKeyByHash returns the key with this hash, or ErrNotFound.
func (r *directory) GetAPIKeyByHash(ctx context.Context, hash string) (APIKey, error) {
	k, err := scanAPIKey(r.db.QueryRowContext(ctx, "SELECT "+apiKeyCols+" FROM api_keys WHERE hash = ?", hash))
	return k, r.mapErr(err)
}

// ListAPIKeys returns a user's keys, oldest first.
func (r *directory) ListAPIKeys(ctx context.Context, userID string) ([]APIKey, error) {
	rows, err := r.db.QueryContext(ctx, "SELECT "+apiKeyCols+" FROM api_keys WHERE user_id = ? ORDER BY created_us, id", userID)
	if err != nil {
		return nil, r.mapErr(err)
	}
	return collect(rows, r.mapErr, func(rows *sql.Rows) (APIKey, error) { return scanAPIKey(rows) })
}

// DeleteAPIKey removes one of a user's keys; ErrNotFound if the user has no
// key with this id.
func (r *directory) DeleteAPIKey(ctx context.Context, userID, id string) error {
	return r.execOne(ctx, "DELETE FROM api_keys WHERE id = ? AND user_id = ?", id, userID)
}

// TouchAPIKey records when a key was last used, or ErrNotFound.
func (r *directory) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	return r.execOne(ctx, "UPDATE api_keys SET last_used_us = ? WHERE id = ?", toMicros(at), id)
}
