package store

import (
	"errors"
	"time"
)

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrConflict is returned when a unique constraint would be broken
// (duplicate email, organisation name, ...).
var ErrConflict = errors.New("store: conflict")

// ErrLimit is returned when a write would pass a bound on how many rows of
// a kind one owner may have (pending invitations of an organisation).
var ErrLimit = errors.New("store: limit reached")

// ErrLastOwner is returned when a change would leave an organisation
// without an owner.
var ErrLastOwner = errors.New("store: an organisation must keep at least one owner")

// Roles a member can hold in an organisation, strongest first.
const (
	RoleOwner    = "owner"
	RoleAdmin    = "admin"
	RoleOperator = "operator"
	RoleViewer   = "viewer"
)

// Org is an organisation: it owns cameras and has members.
type Org struct {
	ID        string
	Name      string
	CreatedAt time.Time
	// StorageQuotaBytes bounds what its recordings may take in all
	// zones together (0: no quota); see package retention.
	StorageQuotaBytes int64
}

// User is an account. PasswordHash and TOTPSecret never leave the server.
type User struct {
	ID            string
	Email         string
	PasswordHash  string
	TOTPSecret    string
	TOTPEnabled   bool
	PlatformAdmin bool
	CreatedAt     time.Time
}

// Membership ties a user to an organisation with a role.
type Membership struct {
	OrgID  string
	UserID string
	Email  string
	Role   string
}

// Camera is a registered camera. IngestSecretHash never leaves the server.
type Camera struct {
	ID               string
	OrgID            string
	Name             string
	Zone             string
	SourceType       string // "push" or "pull"
	SourceURL        string // pull URL (may carry camera credentials)
	RetentionDays    int
	Recording        string // "continuous" or "off"
	IngestSecretHash string
	CreatedAt        time.Time
	// MotionOff turns the camera's motion detection off (the zero value:
	// on); MotionSensitivity is its sensitivity, 0 for the default.
	MotionOff         bool
	MotionSensitivity int
	// Labels are the camera's key=value labels (sites, cost centres); nil
	// for none. The cameras service bounds them.
	Labels map[string]string
	// SiteID is the site whose edge agent brings the camera's video ("":
	// none); a site of the camera's organisation.
	SiteID string
}

// Grant adds per-camera permissions to a user.
type Grant struct {
	CameraID    string
	UserID      string
	Permissions []string
}

// Session is a login session; the token itself is only stored hashed.
type Session struct {
	TokenHash string
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
	// ActingOrgID and ActingRole are set while a platform operator assumes an
	// organisation's role for support.
	ActingOrgID string
	ActingRole  string
}

// API key scopes: what a key may do with its user's permissions.
const (
	// ScopeFull lets a key do anything its user may, but create keys.
	ScopeFull = "full"
	// ScopeRead lets a key only read (GET and HEAD requests).
	ScopeRead = "read"
)

// APIKey is an integration key; the key itself is only stored hashed.
type APIKey struct {
	ID        string
	UserID    string
	Name      string
	Prefix    string
	Hash      string
	CreatedAt time.Time
	LastUsed  *time.Time
	// Scope is ScopeFull or ScopeRead ("" is stored as ScopeFull).
	Scope string
	// ExpiresAt is when the key stops working; zero: never.
	ExpiresAt time.Time
}

// Invitation is a pending offer of a role in an organisation to the
// account of an email; the account becomes a member only by accepting.
type Invitation struct {
	ID        string
	OrgID     string
	Email     string // lower-cased
	Role      string
	InvitedBy string // user id
	CreatedAt time.Time
	ExpiresAt time.Time
	// OrgName is the organisation's name, filled in by the listings.
	OrgName string
}

// AuditEntry is one hash-chained audit record.
type AuditEntry struct {
	Seq      int64
	Time     time.Time
	Actor    string
	ActorAs  string
	Address  string
	Action   string
	Target   string
	OrgID    string
	CameraID string
	Detail   string
	PrevHash string
	Hash     string
}

// AuditFilter selects audit entries; zero fields do not filter.
type AuditFilter struct {
	From, To time.Time
	Actor    string
	CameraID string
	OrgIDs   []string // nil: all organisations (platform admin)
	Limit    int
}

// The row types carry no JSON tags: the API answers with its own wire types.
// Fragment is the exception, its tags are the compact form the recorder's
// sidecar files and the index store it in.

// Fragment locates one fMP4 fragment (moof+mdat) inside a segment object, so
// players can fetch byte ranges instead of whole objects.
type Fragment struct {
	Offset   int64         `json:"o"`
	Size     int64         `json:"s"`
	Start    time.Duration `json:"t"` // from the segment's Start
	Duration time.Duration `json:"d"`
	Key      bool          `json:"k"` // starts with a video keyframe
}

// Segment is one stored segment object of one camera.
type Segment struct {
	CameraID  string
	Start     time.Time
	End       time.Time
	Size      int64
	Key       string // object key in the zone's store
	InitKey   string // object key of the init segment it needs
	Codec     string // e.g. "avc1.64001f,mp4a.40.2"
	Fragments []Fragment
	// Backfilled marks a segment an edge agent uploaded after an outage
	// (internal/backfill), not one the camera server recorded; SHA256 is
	// then the hex SHA-256 of its object (empty for recorded segments).
	Backfilled bool
	SHA256     string
}

// Span is a contiguous recorded range. Backfilled spans are made of
// segments an edge agent uploaded after an outage; Zone.Spans splits a
// range where it changes between backfilled and recorded segments.
type Span struct {
	Start      time.Time
	End        time.Time
	Backfilled bool
}

// CameraStatus is what the zone knows of a camera right now.
type CameraStatus struct {
	CameraID    string
	Online      bool
	Codec       string
	BitrateKbps int
	LastSeen    time.Time
	Server      string
	// Recording says, while Online, whether the camera is being recorded:
	// RecordingOn, RecordingOff, RecordingWaiting or RecordingFailing;
	// RecordingReason says why it is not.
	Recording       string
	RecordingReason string
	// Unrecorded names the tracks the camera offers that are not recorded
	// (a codec camcloud does not take), "" when none.
	Unrecorded string
	// OfflineReason says, while not Online, why: how the last connection
	// ended or the last pull failed ("connection refused", a 401, a
	// timeout); "" when unknown. OfflineSince is when the camera went
	// offline (zero when unknown).
	OfflineReason string
	OfflineSince  time.Time
}

// ReasonServerStopped is the offline reason of the cameras of a camera
// server that stopped.
const ReasonServerStopped = "its camera server stopped"

// Recording states of a connected camera (CameraStatus.Recording).
const (
	RecordingOn      = "recording" // fragments are being committed
	RecordingOff     = "off"       // its recording setting is off
	RecordingWaiting = "waiting"   // connected, nothing recorded lately (no key frame yet, a stalled stream)
	RecordingFailing = "failing"   // the recorder cannot record this stream (see the reason)
)

// Server is a camera server registered in a zone.
type Server struct {
	ID       string
	Addr     string    // base URL of its HTTP (live) endpoint
	Capacity int       // pulled cameras it may lease
	Seen     time.Time // last heartbeat
	Draining bool
}

// Lease is a camera server's claim on a pulled camera.
type Lease struct {
	CameraID string
	ServerID string
	Expires  time.Time
}
