package store

import (
	"context"
	"database/sql"
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
