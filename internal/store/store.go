// Package store holds the directory and zone repositories: one interface each
// and two implementations (SQLite and MySQL), with versioned migrations.
package store

import (
	"context"
	"time"
)

// Directory is the global repository: organisations, users, cameras, grants,
// sessions, API keys and the audit log.
type Directory interface {
	CreateOrg(ctx context.Context, o Org) error
	GetOrg(ctx context.Context, id string) (Org, error)
	ListOrgs(ctx context.Context) ([]Org, error)

	CreateUser(ctx context.Context, u User) error // ErrConflict on duplicate email
	GetUser(ctx context.Context, id string) (User, error)
	GetUserByEmail(ctx context.Context, email string) (User, error)
	UpdateUser(ctx context.Context, u User) error
	CountUsers(ctx context.Context) (int, error)
	// UseTOTPStep marks a TOTP time step used; false when it (or a later
	// one) already was, which refuses replayed codes.
	UseTOTPStep(ctx context.Context, userID string, step int64) (bool, error)

	// Column-level user updates: each writes only its own columns, so that
	// two changes of one user made from rows read earlier never undo each
	// other (UpdateUser rewrites the whole row; keep it for whole rows).
	// Each answers ErrNotFound when the user or the condition is missing.
	SetPasswordHash(ctx context.Context, userID, hash string) error
	// SetTOTPSecret stores a new, not yet enabled secret; ErrNotFound when
	// TOTP is enabled already.
	SetTOTPSecret(ctx context.Context, userID, secret string) error
	// EnableTOTP enables TOTP if the stored secret is still secret.
	EnableTOTP(ctx context.Context, userID, secret string) error
	// ReplaceTOTPSecret rewrites the stored form of the secret (old to
	// new) if it is still old, e.g. to encrypt a legacy plaintext one.
	ReplaceTOTPSecret(ctx context.Context, userID, old, new string) error
	// DisableTOTP clears the secret and deletes the recovery codes.
	DisableTOTP(ctx context.Context, userID string) error
	// SetRecoveryCodes replaces a user's recovery codes (stored hashes).
	SetRecoveryCodes(ctx context.Context, userID string, hashes []string) error
	// UseRecoveryCode deletes the code with this hash; false when the user
	// has none such (never had it, or used it already, on any node).
	UseRecoveryCode(ctx context.Context, userID, hash string) (bool, error)

	// CreateOrgWithOwner stores a new organisation and makes ownerID its
	// owner, in one transaction: an organisation never exists ownerless.
	CreateOrgWithOwner(ctx context.Context, o Org, ownerID string) error
	PutMembership(ctx context.Context, m Membership) error // insert or update role
	// AddMembership adds a member; ErrConflict when already one.
	AddMembership(ctx context.Context, m Membership) error
	// ChangeMember sets userID's role in orgID (role "" removes them) in one
	// transaction that locks the organisation's memberships: allow, when
	// set, sees the current membership first and may refuse with an error;
	// demoting or removing the last owner fails with ErrLastOwner, also when
	// two owners are demoted at once. It returns the membership as it was
	// (Email filled); ErrNotFound when userID is no member.
	ChangeMember(ctx context.Context, orgID, userID, role string, allow func(current Membership) error) (Membership, error)
	DeleteMembership(ctx context.Context, orgID, userID string) error
	ListMembers(ctx context.Context, orgID string) ([]Membership, error) // Email filled
	ListMemberships(ctx context.Context, userID string) ([]Membership, error)

	CreateCamera(ctx context.Context, c Camera) error
	GetCamera(ctx context.Context, id string) (Camera, error)
	// UpdateCamera overwrites the whole row with c, whatever it holds now.
	UpdateCamera(ctx context.Context, c Camera) error
	// ModifyCamera applies fn to the camera as it is in the database, with
	// its row locked, and writes the result in the same transaction, so
	// concurrent edits never undo each other; it returns the camera before
	// and after. fn may not change its id, organisation, zone or creation.
	ModifyCamera(ctx context.Context, id string, fn func(c *Camera) error) (before, after Camera, err error)
	DeleteCamera(ctx context.Context, id string) error // also deletes its grants; *HeldError while it has holds
	// CameraChanges returns a token that changes whenever a camera of zone
	// is created, changed or deleted (in the same transaction): camera
	// servers poll it to learn about changes to the cameras they hold.
	CameraChanges(ctx context.Context, zone string) (int64, error)
	ListCameras(ctx context.Context, orgIDs []string) ([]Camera, error) // nil: all
	ListCamerasByZone(ctx context.Context, zone string) ([]Camera, error)
	// ListCamerasBySite returns the cameras of a site, by id.
	ListCamerasBySite(ctx context.Context, siteID string) ([]Camera, error)
	CountCamerasByZone(ctx context.Context) (map[string]int, error)

	PutGrant(ctx context.Context, g Grant) error
	DeleteGrant(ctx context.Context, cameraID, userID string) error
	GetGrant(ctx context.Context, cameraID, userID string) (Grant, error)
	ListGrantsForUser(ctx context.Context, userID string) ([]Grant, error)

	CreateSession(ctx context.Context, s Session) error
	GetSession(ctx context.Context, tokenHash string) (Session, error)
	UpdateSession(ctx context.Context, s Session) error
	DeleteSession(ctx context.Context, tokenHash string) error
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)
	// DeleteUserSessions ends every session of userID but the one whose
	// token hash is keep ("" ends all) and returns how many ended.
	DeleteUserSessions(ctx context.Context, userID, keep string) (int64, error)

	CreateAPIKey(ctx context.Context, k APIKey) error
	GetAPIKeyByHash(ctx context.Context, hash string) (APIKey, error)
	ListAPIKeys(ctx context.Context, userID string) ([]APIKey, error)
	DeleteAPIKey(ctx context.Context, userID, id string) error
	TouchAPIKey(ctx context.Context, id string, at time.Time) error

	// PutInvitation stores inv, replacing a pending invitation of the same
	// email to the same organisation; ErrLimit when the organisation has
	// too many pending (1000).
	PutInvitation(ctx context.Context, inv Invitation) error
	// ListInvitations returns the invitations of email not expired at now.
	ListInvitations(ctx context.Context, email string, now time.Time) ([]Invitation, error)
	// ListOrgInvitations returns an organisation's invitations not expired at now.
	ListOrgInvitations(ctx context.Context, orgID string, now time.Time) ([]Invitation, error)
	// AcceptInvitation turns the invitation id of email into userID's
	// membership and deletes it, in one transaction; ErrNotFound when it
	// is missing, expired or for another email, ErrConflict when userID is
	// a member already (the invitation is then deleted too).
	AcceptInvitation(ctx context.Context, id, email, userID string, now time.Time) (Membership, error)
	// DeleteInvitation deletes invitation id of orgID (orgID "" : of
	// email); ErrNotFound when there is none such.
	DeleteInvitation(ctx context.Context, id, orgID, email string) (Invitation, error)

	// AppendAudit stores e, computing nothing: the caller (package audit)
	// fills Seq, PrevHash and Hash. It must fail with ErrConflict when Seq is
	// already taken, so that concurrent writers on several nodes retry.
	AppendAudit(ctx context.Context, e AuditEntry) error
	LastAudit(ctx context.Context) (AuditEntry, error) // ErrNotFound when empty
	// ListAudit returns the entries matching f, newest (highest Seq) first.
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
	// ScanAudit calls fn for every entry in Seq order.
	ScanAudit(ctx context.Context, fn func(AuditEntry) error) error

	// WebhookStore is the organisations' webhooks, their delivery
	// cursors and log (dir_webhooks.go).
	WebhookStore

	// ExportStore is the evidence signing key and the export jobs
	// (dir_exports.go).
	ExportStore
	// HoldStore is the legal holds on cameras' recordings, the
	// organisations' storage quotas and their use per zone (dir_holds.go).
	HoldStore
	// ShareStore is the share links (dir_shares.go).
	ShareStore
	// SiteStore is the organisations' sites and their agents'
	// credentials and status (dir_sites.go).
	SiteStore

	Ping(ctx context.Context) error
	Close() error
}

// Zone is the per-zone repository: the recording index, camera status,
// server registry, leases and events.
type Zone interface {
	// InsertSegment adds an index row. Inserting the same (camera, start)
	// twice is not an error (uploads may be retried after a crash).
	InsertSegment(ctx context.Context, s Segment) error
	// ListSegments returns segments overlapping [from, to), ordered by start.
	ListSegments(ctx context.Context, cameraID string, from, to time.Time, limit int) ([]Segment, error)
	// SegmentAt returns the segment containing t, or the last one before it.
	SegmentAt(ctx context.Context, cameraID string, t time.Time) (Segment, error)
	// ExpiredSegments returns up to limit segments that start at or after
	// from and ended before before, oldest first.
	ExpiredSegments(ctx context.Context, cameraID string, from, before time.Time, limit int) ([]Segment, error)
	// OldestSegments returns the zone's oldest segments across cameras
	// that end at or after endFrom.
	OldestSegments(ctx context.Context, endFrom time.Time, limit int) ([]Segment, error)
	// DeleteSegments deletes index rows and takes them off the camera's
	// Usage in the same transaction.
	DeleteSegments(ctx context.Context, cameraID string, starts []time.Time) error
	// SegmentUsageStore is the per-camera use kept with the index
	// (zone_segment_usage.go).
	SegmentUsageStore
	// Spans merges segments overlapping [from, to) whose gap is at most maxGap.
	Spans(ctx context.Context, cameraID string, from, to time.Time, maxGap time.Duration) ([]Span, error)
	// SegmentCameras lists the cameras that have any segment.
	SegmentCameras(ctx context.Context) ([]string, error)

	PutStatus(ctx context.Context, s CameraStatus) error
	GetStatus(ctx context.Context, cameraID string) (CameraStatus, error) // zero value when none
	ListStatus(ctx context.Context, cameraIDs []string) (map[string]CameraStatus, error)
	// NoteOffline records why an offline camera is not connected, and since
	// when when that is not known yet; an online camera is left unchanged.
	NoteOffline(ctx context.Context, cameraID, reason string, at time.Time) error
	// SetOffline marks cameras held by server offline (server stopping or dead).
	SetOffline(ctx context.Context, serverID string) error

	Heartbeat(ctx context.Context, s Server) error // upsert with Seen
	ListServers(ctx context.Context, aliveSince time.Time) ([]Server, error)
	RemoveServer(ctx context.Context, id string) error

	// ClaimLease takes or renews the lease of cameraID for serverID when it is
	// free, expired or already serverID's; it reports whether serverID holds it.
	ClaimLease(ctx context.Context, cameraID, serverID string, ttl time.Duration, now time.Time) (bool, error)
	ReleaseLeases(ctx context.Context, serverID string) error
	ListLeases(ctx context.Context, serverID string) ([]Lease, error)

	// EventStore is the zone's event log and camera presence (zone_events.go).
	EventStore
	// UsageStore is the zone's usage metering (zone_usage.go).
	UsageStore

	// BookmarkStore is the cameras' bookmarks (zone_bookmarks.go).
	BookmarkStore
	// UploadStore is the edge agents' pending backfill uploads
	// (zone_uploads.go).
	UploadStore

	Ping(ctx context.Context) error
	Close() error
}

// FindMember returns userID's membership of orgID, or ErrNotFound: the one
// lookup the organisation and camera services share.
func FindMember(ctx context.Context, d Directory, orgID, userID string) (Membership, error) {
	ms, err := d.ListMembers(ctx, orgID)
	if err != nil {
		return Membership{}, err
	}
	for _, m := range ms {
		if m.UserID == userID {
			return m, nil
		}
	}
	return Membership{}, ErrNotFound
}
