package store

import (
	"cmp"
	"context"
	"database/sql"
	"strings"
)

// directory implements Directory over database/sql for every dialect.
type directory struct{ *base }

// CreateOrg stores a new organisation; ErrConflict if its id or name is taken.
func (r *directory) CreateOrg(ctx context.Context, o Org) error {
	var c check
	c.id("org id", o.ID)
	c.str("org name", o.Name, maxKey, true)
	if c.err != nil {
		return c.err
	}
	_, err := r.exec(ctx, "INSERT INTO orgs (id, name, created_us) VALUES (?, ?, ?)", o.ID, o.Name, toMicros(o.CreatedAt))
	return err
}

// GetOrg returns one organisation or ErrNotFound.
func (r *directory) GetOrg(ctx context.Context, id string) (Org, error) {
	var o Org
	var created int64
	err := r.db.QueryRowContext(ctx, "SELECT id, name, created_us, storage_quota_bytes FROM orgs WHERE id = ?", id).Scan(&o.ID, &o.Name, &created, &o.StorageQuotaBytes)
	o.CreatedAt = fromMicros(created)
	return o, r.mapErr(err)
}

// ListOrgs returns every organisation by name.
func (r *directory) ListOrgs(ctx context.Context) ([]Org, error) {
	rows, err := r.db.QueryContext(ctx, "SELECT id, name, created_us, storage_quota_bytes FROM orgs ORDER BY name, id")
	if err != nil {
		return nil, r.mapErr(err)
	}
	return collect(rows, r.mapErr, func(rows *sql.Rows) (Org, error) {
		var o Org
		var created int64
		err := rows.Scan(&o.ID, &o.Name, &created, &o.StorageQuotaBytes)
		o.CreatedAt = fromMicros(created)
		return o, err
	})
}

// userCols is the column list scanUser reads.
const userCols = "id, email, password_hash, totp_secret, totp_enabled, platform_admin, created_us"

// scanUser reads one row of userCols.
func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var created int64
	err := row.Scan(&u.ID, &u.Email, &u.PasswordHash, &u.TOTPSecret, &u.TOTPEnabled, &u.PlatformAdmin, &created)
	u.CreatedAt = fromMicros(created)
	return u, err
}

// checkUser validates u before it is written.
func checkUser(u User) error {
	var c check
	c.id("user id", u.ID)
	c.str("email", u.Email, maxKey, true)
	c.str("password hash", u.PasswordHash, maxText, false)
	c.str("TOTP secret", u.TOTPSecret, maxText, false)
	return c.err
}

// CreateUser stores a new user with the email lower-cased; ErrConflict when
// the email (in any case) or the id is taken.
func (r *directory) CreateUser(ctx context.Context, u User) error {
	if err := checkUser(u); err != nil {
		return err
	}
	_, err := r.exec(ctx, "INSERT INTO users ("+userCols+") VALUES (?, ?, ?, ?, ?, ?, ?)",
		u.ID, strings.ToLower(u.Email), u.PasswordHash, u.TOTPSecret, u.TOTPEnabled, u.PlatformAdmin, toMicros(u.CreatedAt))
	return err
}

// GetUser returns one user or ErrNotFound.
func (r *directory) GetUser(ctx context.Context, id string) (User, error) {
	u, err := scanUser(r.db.QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE id = ?", id))
	return u, r.mapErr(err)
}

// GetUserByEmail finds a user by email in any case, or ErrNotFound.
func (r *directory) GetUserByEmail(ctx context.Context, email string) (User, error) {
	u, err := scanUser(r.db.QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE email = ?", strings.ToLower(email)))
	return u, r.mapErr(err)
}

// UpdateUser rewrites every field of u but its id and creation time.
func (r *directory) UpdateUser(ctx context.Context, u User) error {
	if err := checkUser(u); err != nil {
		return err
	}
	return r.execOne(ctx, "UPDATE users SET email = ?, password_hash = ?, totp_secret = ?, totp_enabled = ?, platform_admin = ? WHERE id = ?",
		strings.ToLower(u.Email), u.PasswordHash, u.TOTPSecret, u.TOTPEnabled, u.PlatformAdmin, u.ID)
}

// SetPasswordHash writes only the user's password hash.
func (r *directory) SetPasswordHash(ctx context.Context, userID, hash string) error {
	var c check
	c.str("password hash", hash, maxText, true)
	if c.err != nil {
		return c.err
	}
	return r.execOne(ctx, "UPDATE users SET password_hash = ? WHERE id = ?", hash, userID)
}

// SetTOTPSecret writes a new pending secret unless TOTP is enabled.
func (r *directory) SetTOTPSecret(ctx context.Context, userID, secret string) error {
	var c check
	c.str("TOTP secret", secret, maxText, true)
	if c.err != nil {
		return c.err
	}
	return r.execOne(ctx, "UPDATE users SET totp_secret = ?, totp_enabled = ? WHERE id = ? AND totp_enabled = ?", secret, false, userID, false)
}

// EnableTOTP enables TOTP, compare-and-set on the secret the caller checked.
func (r *directory) EnableTOTP(ctx context.Context, userID, secret string) error {
	if secret == "" {
		return ErrNotFound
	}
	return r.execOne(ctx, "UPDATE users SET totp_enabled = ? WHERE id = ? AND totp_secret = ?", true, userID, secret)
}

// ReplaceTOTPSecret rewrites the secret's stored form, compare-and-set.
func (r *directory) ReplaceTOTPSecret(ctx context.Context, userID, old, new string) error {
	var c check
	c.str("TOTP secret", new, maxText, true)
	if c.err != nil {
		return c.err
	}
	return r.execOne(ctx, "UPDATE users SET totp_secret = ? WHERE id = ? AND totp_secret = ?", new, userID, old)
}

// DisableTOTP clears the secret and the recovery codes in one transaction.
func (r *directory) DisableTOTP(ctx context.Context, userID string) error {
	return r.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE users SET totp_secret = ?, totp_enabled = ? WHERE id = ?", "", false, userID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return cmp.Or(err, ErrNotFound)
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM recovery_codes WHERE user_id = ?", userID)
		return err
	})
}

// maxRecoveryCodes bounds the recovery codes one user may hold.
const maxRecoveryCodes = 32

// SetRecoveryCodes replaces the user's recovery codes in one transaction.
func (r *directory) SetRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	var c check
	c.id("user id", userID)
	c.ok(len(hashes) <= maxRecoveryCodes, "too many recovery codes")
	for _, h := range hashes {
		c.str("recovery code hash", h, maxKey, true)
	}
	if c.err != nil {
		return c.err
	}
	return r.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM recovery_codes WHERE user_id = ?", userID); err != nil {
			return err
		}
		for _, h := range hashes {
			if _, err := tx.ExecContext(ctx, "INSERT INTO recovery_codes (user_id, hash) VALUES (?, ?)", userID, h); err != nil {
				return err
			}
		}
		return nil
	})
}

// UseRecoveryCode deletes one recovery code; the delete is the atomic test.
func (r *directory) UseRecoveryCode(ctx context.Context, userID, hash string) (bool, error) {
	res, err := r.exec(ctx, "DELETE FROM recovery_codes WHERE user_id = ? AND hash = ?", userID, hash)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// UseTOTPStep records that the TOTP code of time step step was used by the
// user, atomically: it reports false when that step or a later one was
// already used, so a code cannot be replayed, on any node.
func (r *directory) UseTOTPStep(ctx context.Context, userID string, step int64) (bool, error) {
	res, err := r.exec(ctx, "UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?", step, userID, step)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// CountUsers counts all users (zero means first start).
func (r *directory) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := r.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM users").Scan(&n)
	return n, r.mapErr(err)
}

// PutMembership adds a user to an organisation or changes their role;
// ErrNotFound when the organisation or the user does not exist.
func (r *directory) PutMembership(ctx context.Context, m Membership) error {
	if err := checkMembership(m); err != nil {
		return err
	}
	_, err := r.exec(ctx, r.d.upsert("memberships", []string{"org_id", "user_id"}, []string{"org_id", "user_id", "role"}, []string{"role"}),
		m.OrgID, m.UserID, m.Role)
	return err
}

// checkMembership validates the fields of a membership row.
func checkMembership(m Membership) error {
	var c check
	c.id("org id", m.OrgID)
	c.id("user id", m.UserID)
	c.id("role", m.Role)
	return c.err
}

// membershipQuery selects memberships with the member's email.
const membershipQuery = "SELECT m.org_id, m.user_id, u.email, m.role FROM memberships m JOIN users u ON u.id = m.user_id "

// ListMembers returns an organisation's members by email.
func (r *directory) ListMembers(ctx context.Context, orgID string) ([]Membership, error) {
	return r.memberships(ctx, membershipQuery+"WHERE m.org_id = ? ORDER BY u.email", orgID)
}

// ListMemberships returns a user's memberships by organisation id.
func (r *directory) ListMemberships(ctx context.Context, userID string) ([]Membership, error) {
	return r.memberships(ctx, membershipQuery+"WHERE m.user_id = ? ORDER BY m.org_id", userID)
}

func (r *directory) memberships(ctx context.Context, q string, arg string) ([]Membership, error) {
	rows, err := r.db.QueryContext(ctx, q, arg)
	if err != nil {
		return nil, r.mapErr(err)
	}
	return collect(rows, r.mapErr, func(rows *sql.Rows) (Membership, error) {
		var m Membership
		err := rows.Scan(&m.OrgID, &m.UserID, &m.Email, &m.Role)
		return m, err
	})
}
