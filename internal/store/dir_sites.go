package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Site is a place of an organisation where an edge agent records the
// local cameras and brings their video to the cloud.
type Site struct {
	ID    string
	OrgID string
	Name  string
	// EnrolHash is the hash of the pending one-time enrolment token (""
	// when none is pending), valid until EnrolUntil.
	EnrolHash  string
	EnrolUntil time.Time
	// CredHash is the hash of the credential the agent enrolled with (""
	// before enrolment and after revocation).
	CredHash string
	// RevokedAt is when the credential was last revoked (zero: never);
	// EnrolledAt when the agent last enrolled.
	RevokedAt  time.Time
	EnrolledAt time.Time
	CreatedBy  string
	CreatedAt  time.Time
	// Status is what the agent last reported.
	Status SiteStatus
}

// SiteStatus is what an edge agent reports in its heartbeat.
type SiteStatus struct {
	LastSeen     time.Time
	AgentVersion string
	// BufferUsed and BufferMax are the bytes of the agent's ring buffer.
	BufferUsed, BufferMax int64
	// Backlog and BacklogBytes are how much of the buffer the cloud still
	// lacks; UploadBPS the agent's recent upload rate in bits per second.
	Backlog      time.Duration
	BacklogBytes int64
	UploadBPS    int64
}

// MaxSitesPerOrg bounds an organisation's sites.
const MaxSitesPerOrg = 1000

// SiteStore keeps sites.
type SiteStore interface {
	// CreateSite stores s; ErrLimit when its organisation has
	// MaxSitesPerOrg sites, ErrNotFound when the organisation is gone.
	CreateSite(ctx context.Context, s Site) error
	GetSite(ctx context.Context, id string) (Site, error)
	// ListSites returns the sites of the given organisations (nil: all),
	// by name.
	ListSites(ctx context.Context, orgIDs []string) ([]Site, error)
	// SiteByCredential returns the site whose credential hash is hash;
	// ErrNotFound when none (revoked, rotated away or never issued).
	SiteByCredential(ctx context.Context, hash string) (Site, error)
	// EnrolSite exchanges the pending enrolment token whose hash is
	// enrolHash, if still valid at now, for the credential hash
	// credHash, in one conditional write: the token works once, and a
	// concurrent second exchange finds nothing (ErrNotFound).
	EnrolSite(ctx context.Context, enrolHash, credHash string, now time.Time) (Site, error)
	// ModifySite applies fn to the site as stored, its row locked, and
	// writes the result in the same transaction; fn may not change the
	// id, organisation or creation.
	ModifySite(ctx context.Context, id string, fn func(s *Site) error) (before, after Site, err error)
	// PutSiteStatus stores st as the site's status if credHash is still
	// its credential; ErrNotFound (nothing written) when it is not.
	PutSiteStatus(ctx context.Context, id, credHash string, st SiteStatus) error
}

// siteCols is the column list scanSite reads.
const siteCols = "id, org_id, name, enrol_hash, enrol_until_us, cred_hash, revoked_us, enrolled_us, created_by, created_us, " +
	"last_seen_us, agent_version, buffer_used_bytes, buffer_max_bytes, backlog_ms, backlog_bytes, upload_bps"

func scanSite(row interface{ Scan(...any) error }) (Site, error) {
	var s Site
	var enrolUntil, revoked, enrolled, created, seen, backlogMS int64
	err := row.Scan(&s.ID, &s.OrgID, &s.Name, &s.EnrolHash, &enrolUntil, &s.CredHash, &revoked, &enrolled, &s.CreatedBy, &created,
		&seen, &s.Status.AgentVersion, &s.Status.BufferUsed, &s.Status.BufferMax, &backlogMS, &s.Status.BacklogBytes, &s.Status.UploadBPS)
	s.EnrolUntil, s.RevokedAt, s.EnrolledAt, s.CreatedAt = fromMicros(enrolUntil), fromMicros(revoked), fromMicros(enrolled), fromMicros(created)
	s.Status.LastSeen, s.Status.Backlog = fromMicros(seen), time.Duration(backlogMS)*time.Millisecond
	return s, err
}

func siteArgs(s Site) []any {
	return []any{s.ID, s.OrgID, s.Name, s.EnrolHash, toMicros(s.EnrolUntil), s.CredHash, toMicros(s.RevokedAt), toMicros(s.EnrolledAt),
		s.CreatedBy, toMicros(s.CreatedAt), toMicros(s.Status.LastSeen), s.Status.AgentVersion, s.Status.BufferUsed, s.Status.BufferMax,
		s.Status.Backlog.Milliseconds(), s.Status.BacklogBytes, s.Status.UploadBPS}
}

// checkSite validates s before it is written.
func checkSite(s Site) error {
	var c check
	c.id("site id", s.ID)
	c.id("org id", s.OrgID)
	c.str("site name", s.Name, maxKey, true)
	c.str("site enrolment hash", s.EnrolHash, maxKey, false)
	c.str("site credential hash", s.CredHash, maxKey, false)
	c.str("site creator", s.CreatedBy, maxID, false)
	c.str("agent version", s.Status.AgentVersion, maxID, false)
	st := s.Status
	c.ok(st.BufferUsed >= 0 && st.BufferMax >= 0 && st.Backlog >= 0 && st.BacklogBytes >= 0 && st.UploadBPS >= 0, "site status figures are negative")
	return c.err
}

// CreateSite stores a new site within its organisation's bound.
func (r *directory) CreateSite(ctx context.Context, s Site) error {
	if err := checkSite(s); err != nil {
		return err
	}
	return r.inTx(ctx, func(tx *sql.Tx) error {
		var org string
		if err := tx.QueryRowContext(ctx, "SELECT id FROM orgs WHERE id = ?"+r.d.forUpdate, s.OrgID).Scan(&org); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM sites WHERE org_id = ?", s.OrgID).Scan(&n); err != nil {
			return err
		}
		if n >= MaxSitesPerOrg {
			return ErrLimit
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO sites ("+siteCols+") VALUES ("+placeholders(17)+")", siteArgs(s)...)
		return err
	})
}

// GetSite returns site id or ErrNotFound.
func (r *directory) GetSite(ctx context.Context, id string) (Site, error) {
	s, err := scanSite(r.db.QueryRowContext(ctx, "SELECT "+siteCols+" FROM sites WHERE id = ?", id))
	return s, r.mapErr(err)
}

// ListSites returns the sites of orgIDs (nil: all), by name.
func (r *directory) ListSites(ctx context.Context, orgIDs []string) ([]Site, error) {
	q, args, none, err := inOrgs("SELECT "+siteCols+" FROM sites", orgIDs)
	if none || err != nil {
		return nil, err
	}
	rows, err := r.db.QueryContext(ctx, q+" ORDER BY name, id", args...)
	if err != nil {
		return nil, r.mapErr(err)
	}
	return collect(rows, r.mapErr, func(rows *sql.Rows) (Site, error) { return scanSite(rows) })
}

// SiteByCredential finds the site of a credential hash.
func (r *directory) SiteByCredential(ctx context.Context, hash string) (Site, error) {
	if hash == "" {
		return Site{}, ErrNotFound
	}
	s, err := scanSite(r.db.QueryRowContext(ctx, "SELECT "+siteCols+" FROM sites WHERE cred_hash = ?", hash))
	return s, r.mapErr(err)
}

// EnrolSite exchanges a valid enrolment token for a credential.
func (r *directory) EnrolSite(ctx context.Context, enrolHash, credHash string, now time.Time) (Site, error) {
	if enrolHash == "" || credHash == "" {
		return Site{}, ErrNotFound
	}
	var s Site
	err := r.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE sites SET cred_hash = ?, enrol_hash = '', enrol_until_us = 0, enrolled_us = ? "+
			"WHERE enrol_hash = ? AND enrol_until_us > ?", credHash, toMicros(now), enrolHash, toMicros(now))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			if err == nil {
				err = ErrNotFound
			}
			return err
		}
		s, err = scanSite(tx.QueryRowContext(ctx, "SELECT "+siteCols+" FROM sites WHERE cred_hash = ?", credHash))
		return err
	})
	return s, r.mapErr(err)
}

// ModifySite changes a site under its row lock.
func (r *directory) ModifySite(ctx context.Context, id string, fn func(s *Site) error) (before, after Site, err error) {
	var refused error
	err = r.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		before, err = scanSite(tx.QueryRowContext(ctx, "SELECT "+siteCols+" FROM sites WHERE id = ?"+r.d.forUpdate, id))
		if err != nil {
			return err
		}
		after = before
		if refused = fn(&after); refused != nil {
			return refused
		}
		if after.ID != before.ID || after.OrgID != before.OrgID || !after.CreatedAt.Equal(before.CreatedAt) {
			return fmt.Errorf("store: a site's id, organisation and creation cannot change")
		}
		if err := checkSite(after); err != nil {
			return err
		}
		args := append(siteArgs(after)[2:], after.ID)
		if _, err = tx.ExecContext(ctx, `UPDATE sites SET name = ?, enrol_hash = ?, enrol_until_us = ?, cred_hash = ?, revoked_us = ?,
  enrolled_us = ?, created_by = ?, created_us = ?, last_seen_us = ?, agent_version = ?, buffer_used_bytes = ?, buffer_max_bytes = ?,
  backlog_ms = ?, backlog_bytes = ?, upload_bps = ? WHERE id = ?`, args...); err != nil {
			return err
		}
		if before.CredHash != "" && after.CredHash == "" {
			return r.siteCamerasChanged(ctx, tx, id)
		}
		return nil
	})
	if refused != nil {
		return before, after, refused
	}
	return before, after, r.mapErr(err)
}

// siteCamerasChanged replaces the change token of every zone with a
// camera at site id, in tx: a revoked credential is a change of those
// cameras to the camera servers, which drop their streams (the agent's
// relays) within about a second.
func (r *directory) siteCamerasChanged(ctx context.Context, tx *sql.Tx, id string) error {
	rows, err := tx.QueryContext(ctx, "SELECT DISTINCT zone FROM cameras WHERE site_id = ?", id)
	if err != nil {
		return err
	}
	var zones []string
	for rows.Next() {
		var z string
		if err := rows.Scan(&z); err != nil {
			rows.Close()
			return err
		}
		zones = append(zones, z)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, z := range zones {
		if err := r.cameraChanged(ctx, tx, z); err != nil {
			return err
		}
	}
	return nil
}

// PutSiteStatus writes a heartbeat's status, fenced on the credential.
func (r *directory) PutSiteStatus(ctx context.Context, id, credHash string, st SiteStatus) error {
	if err := checkSite(Site{ID: id, OrgID: "x", Name: "x", Status: st}); err != nil {
		return err
	}
	if credHash == "" {
		return ErrNotFound
	}
	return r.execOne(ctx, `UPDATE sites SET last_seen_us = ?, agent_version = ?, buffer_used_bytes = ?, buffer_max_bytes = ?,
  backlog_ms = ?, backlog_bytes = ?, upload_bps = ? WHERE id = ? AND cred_hash = ?`,
		toMicros(st.LastSeen), st.AgentVersion, st.BufferUsed, st.BufferMax, st.Backlog.Milliseconds(), st.BacklogBytes, st.UploadBPS, id, credHash)
}
