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

// Roles a member can hold in an organisation, strongest first.
const (
	RoleOwner    = "owner"
	RoleAdmin    = "admin"
	RoleOperator = "operator"
	RoleViewer   = "viewer"
)

// Org is an organisation: it owns cameras and has members.
type Org struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// User is an account. PasswordHash and TOTPSecret never leave the server.
type User struct {
	ID            string    `json:"id"`
	Email         string    `json:"email"`
	PasswordHash  string    `json:"-"`
	TOTPSecret    string    `json:"-"`
	TOTPEnabled   bool      `json:"totp_enabled"`
	PlatformAdmin bool      `json:"platform_admin"`
	CreatedAt     time.Time `json:"created_at"`
}

// Membership ties a user to an organisation with a role.
type Membership struct {
	OrgID  string `json:"org_id"`
	UserID string `json:"user_id"`
	Email  string `json:"email,omitempty"`
	Role   string `json:"role"`
}

// Camera is a registered camera. IngestSecretHash never leaves the server.
type Camera struct {
	ID               string    `json:"id"`
	OrgID            string    `json:"org_id"`
	Name             string    `json:"name"`
	Zone             string    `json:"zone"`
	SourceType       string    `json:"-"` // "push" or "pull"
	SourceURL        string    `json:"-"` // pull URL (may carry camera credentials)
	RetentionDays    int       `json:"retention_days"`
	Recording        string    `json:"recording"` // "continuous" or "off"
	IngestSecretHash string    `json:"-"`
	CreatedAt        time.Time `json:"created_at"`
}

// Grant adds per-camera permissions to a user.
type Grant struct {
	CameraID    string   `json:"camera_id"`
	UserID      string   `json:"user_id"`
	Permissions []string `json:"permissions"`
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

// APIKey is an integration key; the key itself is only stored hashed.
type APIKey struct {
	ID        string     `json:"id"`
	UserID    string     `json:"user_id"`
	Name      string     `json:"name"`
	Prefix    string     `json:"prefix"`
	Hash      string     `json:"-"`
	CreatedAt time.Time  `json:"created_at"`
	LastUsed  *time.Time `json:"last_used,omitempty"`
}

// AuditEntry is one hash-chained audit record.
type AuditEntry struct {
	Seq      int64     `json:"seq"`
	Time     time.Time `json:"time"`
	Actor    string    `json:"actor"`
	ActorAs  string    `json:"actor_as,omitempty"`
	Address  string    `json:"address"`
	Action   string    `json:"action"`
	Target   string    `json:"target"`
	OrgID    string    `json:"org_id,omitempty"`
	CameraID string    `json:"camera_id,omitempty"`
	Detail   string    `json:"detail,omitempty"`
	PrevHash string    `json:"prev_hash"`
	Hash     string    `json:"hash"`
}

// AuditFilter selects audit entries; zero fields do not filter.
type AuditFilter struct {
	From, To time.Time
	Actor    string
	CameraID string
	OrgIDs   []string // nil: all organisations (platform admin)
	Limit    int
}

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
}

// Span is a contiguous recorded range.
type Span struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// CameraStatus is what the zone knows of a camera right now.
type CameraStatus struct {
	CameraID    string    `json:"-"`
	Online      bool      `json:"online"`
	Codec       string    `json:"codec,omitempty"`
	BitrateKbps int       `json:"bitrate_kbps"`
	LastSeen    time.Time `json:"last_seen,omitempty"`
	Server      string    `json:"server,omitempty"`
}

// Server is a camera server registered in a zone.
type Server struct {
	ID       string    `json:"id"`
	Addr     string    `json:"addr"`      // base URL of its HTTP (live) endpoint
	Capacity int       `json:"capacity"`  // pulled cameras it may lease
	Seen     time.Time `json:"last_seen"` // last heartbeat
	Draining bool      `json:"draining"`
}

// Lease is a camera server's claim on a pulled camera.
type Lease struct {
	CameraID string
	ServerID string
	Expires  time.Time
}
