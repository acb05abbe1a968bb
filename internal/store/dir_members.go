package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"
)

// CreateOrgWithOwner stores o and its owner's membership in one transaction.
func (r *directory) CreateOrgWithOwner(ctx context.Context, o Org, ownerID string) error {
	var c check
	c.id("org id", o.ID)
	c.str("org name", o.Name, maxKey, true)
	c.id("user id", ownerID)
	if c.err != nil {
		return c.err
	}
	return r.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO orgs (id, name, created_us) VALUES (?, ?, ?)", o.ID, o.Name, toMicros(o.CreatedAt)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO memberships (org_id, user_id, role) VALUES (?, ?, ?)", o.ID, ownerID, RoleOwner)
		return err
	})
}

// AddMembership inserts m; the primary key refuses a second membership.
func (r *directory) AddMembership(ctx context.Context, m Membership) error {
	if err := checkMembership(m); err != nil {
		return err
	}
	_, err := r.exec(ctx, "INSERT INTO memberships (org_id, user_id, role) VALUES (?, ?, ?)", m.OrgID, m.UserID, m.Role)
	return err
}

// ChangeMember reads the organisation's memberships with their rows locked
// (MySQL: FOR UPDATE; SQLite: the transaction holds the write lock), checks
// the rules against what it read and writes, all in one transaction, so two
// owners demoting each other at once cannot both succeed.
func (r *directory) ChangeMember(ctx context.Context, orgID, userID, role string, allow func(Membership) error) (Membership, error) {
	var c check
	c.id("org id", orgID)
	c.id("user id", userID)
	c.str("role", role, maxID, false)
	if c.err != nil {
		return Membership{}, c.err
	}
	var old Membership
	err := r.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT m.user_id, u.email, m.role FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = ?"+r.d.forUpdate, orgID)
		if err != nil {
			return err
		}
		owners, found := 0, false
		for rows.Next() {
			var m Membership
			if err := rows.Scan(&m.UserID, &m.Email, &m.Role); err != nil {
				rows.Close()
				return err
			}
			if m.Role == RoleOwner {
				owners++
			}
			if m.UserID == userID {
				m.OrgID = orgID
				old, found = m, true
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if !found {
			return ErrNotFound
		}
		if allow != nil {
			if err := allow(old); err != nil {
				return err
			}
		}
		if old.Role == RoleOwner && role != RoleOwner && owners <= 1 {
			return ErrLastOwner
		}
		if role == "" {
			_, err = r.removeMember(ctx, tx, orgID, userID)
		} else {
			_, err = tx.ExecContext(ctx, "UPDATE memberships SET role = ? WHERE org_id = ? AND user_id = ?", role, orgID, userID)
		}
		return err
	})
	return old, err
}

// DeleteMembership removes a user from an organisation, with their grants
// on its cameras, in one transaction; ErrNotFound when not a member.
func (r *directory) DeleteMembership(ctx context.Context, orgID, userID string) error {
	return r.inTx(ctx, func(tx *sql.Tx) error {
		n, err := r.removeMember(ctx, tx, orgID, userID)
		if err == nil && n == 0 {
			err = ErrNotFound
		}
		return err
	})
}

// removeMember deletes userID's membership of orgID and their grants on the
// organisation's cameras in tx: grants go with the membership, so that a
// member who is removed and later added again does not get them back. It
// returns how many memberships it deleted (0 or 1).
func (r *directory) removeMember(ctx context.Context, tx *sql.Tx, orgID, userID string) (int64, error) {
	res, err := tx.ExecContext(ctx, "DELETE FROM memberships WHERE org_id = ? AND user_id = ?", orgID, userID)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	_, err = tx.ExecContext(ctx, "DELETE FROM grants WHERE user_id = ? AND camera_id IN (SELECT id FROM cameras WHERE org_id = ?)", userID, orgID)
	return n, err
}

// invitationCols is the column list scanInvitation reads.
const invitationCols = "id, org_id, email, role, invited_by, created_us, expires_us"

// scanInvitation reads one row of invitationCols.
func scanInvitation(row interface{ Scan(...any) error }) (Invitation, error) {
	var inv Invitation
	var created, expires int64
	err := row.Scan(&inv.ID, &inv.OrgID, &inv.Email, &inv.Role, &inv.InvitedBy, &created, &expires)
	inv.CreatedAt, inv.ExpiresAt = fromMicros(created), fromMicros(expires)
	return inv, err
}

// PutInvitation replaces any invitation of inv's email to inv's
// organisation by inv, and deletes the organisation's invitations expired
// at inv.CreatedAt, in one transaction; ErrLimit when the organisation has
// maxInvitations pending already.
func (r *directory) PutInvitation(ctx context.Context, inv Invitation) error {
	var c check
	c.id("invitation id", inv.ID)
	c.id("org id", inv.OrgID)
	c.str("email", inv.Email, maxKey, true)
	c.id("role", inv.Role)
	c.id("inviting user id", inv.InvitedBy)
	if c.err != nil {
		return c.err
	}
	email := strings.ToLower(inv.Email)
	return r.inTx(ctx, func(tx *sql.Tx) error {
		// Expired invitations of the organisation go on the way.
		if _, err := tx.ExecContext(ctx, "DELETE FROM invitations WHERE org_id = ? AND (email = ? OR expires_us <= ?)",
			inv.OrgID, email, toMicros(inv.CreatedAt)); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM invitations WHERE org_id = ?", inv.OrgID).Scan(&n); err != nil {
			return err
		}
		if n >= maxInvitations {
			return ErrLimit
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO invitations ("+invitationCols+") VALUES (?, ?, ?, ?, ?, ?, ?)",
			inv.ID, inv.OrgID, email, inv.Role, inv.InvitedBy, toMicros(inv.CreatedAt), toMicros(inv.ExpiresAt))
		return err
	})
}

// ListInvitations returns email's live invitations, oldest first.
func (r *directory) ListInvitations(ctx context.Context, email string, now time.Time) ([]Invitation, error) {
	return r.invitations(ctx, "email = ?", strings.ToLower(email), now)
}

// ListOrgInvitations returns an organisation's live invitations, oldest first.
func (r *directory) ListOrgInvitations(ctx context.Context, orgID string, now time.Time) ([]Invitation, error) {
	return r.invitations(ctx, "org_id = ?", orgID, now)
}

// maxInvitations bounds the pending invitations of one organisation and
// one listing of invitations.
const maxInvitations = 1000

// invitations lists live invitations matching where, each with the name
// of its organisation read in the same query.
func (r *directory) invitations(ctx context.Context, where, arg string, now time.Time) ([]Invitation, error) {
	rows, err := r.db.QueryContext(ctx, "SELECT "+invitationColsOf("i")+", o.name FROM invitations i JOIN orgs o ON o.id = i.org_id"+
		" WHERE i."+where+" AND i.expires_us > ? ORDER BY i.created_us, i.id LIMIT "+strconv.Itoa(maxInvitations),
		arg, toMicros(now))
	if err != nil {
		return nil, r.mapErr(err)
	}
	return collect(rows, r.mapErr, func(rows *sql.Rows) (Invitation, error) {
		var inv Invitation
		var created, expires int64
		err := rows.Scan(&inv.ID, &inv.OrgID, &inv.Email, &inv.Role, &inv.InvitedBy, &created, &expires, &inv.OrgName)
		inv.CreatedAt, inv.ExpiresAt = fromMicros(created), fromMicros(expires)
		return inv, err
	})
}

// invitationColsOf is invitationCols qualified by a table alias.
func invitationColsOf(alias string) string {
	cols := strings.Split(invitationCols, ", ")
	for i, c := range cols {
		cols[i] = alias + "." + c
	}
	return strings.Join(cols, ", ")
}

// AcceptInvitation reads the invitation locked, deletes it and adds the
// membership, in one transaction.
func (r *directory) AcceptInvitation(ctx context.Context, id, email, userID string, now time.Time) (Membership, error) {
	var m Membership
	already := false
	err := r.inTx(ctx, func(tx *sql.Tx) error {
		inv, err := scanInvitation(tx.QueryRowContext(ctx, "SELECT "+invitationCols+" FROM invitations WHERE id = ? AND email = ?"+r.d.forUpdate, id, strings.ToLower(email)))
		if err != nil {
			return err
		}
		if !now.Before(inv.ExpiresAt) {
			return ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM invitations WHERE id = ?", id); err != nil {
			return err
		}
		m = Membership{OrgID: inv.OrgID, UserID: userID, Email: inv.Email, Role: inv.Role}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM memberships WHERE org_id = ? AND user_id = ?", m.OrgID, userID).Scan(&n); err != nil {
			return err
		}
		if already = n > 0; already {
			return nil // the invitation is spent all the same
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO memberships (org_id, user_id, role) VALUES (?, ?, ?)", m.OrgID, m.UserID, m.Role)
		return err
	})
	if err == nil && already {
		err = ErrConflict
	}
	return m, err
}

// DeleteInvitation deletes invitation id of orgID, or of email when orgID
// is "", and returns it as it was (read locked in the same transaction).
func (r *directory) DeleteInvitation(ctx context.Context, id, orgID, email string) (Invitation, error) {
	where, arg := "org_id = ?", orgID
	if orgID == "" {
		if email == "" {
			return Invitation{}, ErrNotFound
		}
		where, arg = "email = ?", strings.ToLower(email)
	}
	var inv Invitation
	err := r.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		inv, err = scanInvitation(tx.QueryRowContext(ctx, "SELECT "+invitationCols+" FROM invitations WHERE id = ? AND "+where+r.d.forUpdate, id, arg))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM invitations WHERE id = ?", id)
		return err
	})
	return inv, err
}
