// Package sites is the site service: an organisation's sites (a shop, a
// building site) whose edge agent records the local cameras and brings
// their video to the cloud, the agent's enrolment and credential, and the
// status its heartbeats report.
//
// An owner or admin creates a site and gets a one-time enrolment token
// (shown once, valid EnrolTTL). The agent exchanges it for a site
// credential (POST /api/v1/agent/enrol); both are stored as SHA-256 hashes
// only. The agent authenticates every later call with the credential,
// which it may rotate itself (the old one is refused from then on); an
// admin may revoke it, which refuses it at once, on every api node (each
// call looks the hash up in the directory), and may hand out a new
// enrolment token to enrol the site again.
package sites

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/names"
	"github.com/camcloud/camcloud/internal/store"
)

// Token prefixes: a leaked enrolment token or credential is recognisable.
const (
	EnrolPrefix      = "cc_e_"
	CredentialPrefix = "cc_a_"
)

// Bounds of what an agent reports and of names.
const (
	maxName          = 100
	maxAgentVersion  = 64
	maxReportedBytes = 1 << 50 // a petabyte: more is a bug or a lie
	maxBacklog       = 10 * 365 * 24 * time.Hour
	maxUploadBPS     = 1 << 40
	maxTokenLen      = 128
)

// OnlineWithin is how recent an agent's last heartbeat must be for its
// site to count as online (three heartbeats of the default interval).
const OnlineWithin = 30 * time.Second

// ErrBadCredential refuses an unknown, expired, used, rotated or revoked
// enrolment token or credential: the API answers 401.
var ErrBadCredential = errors.New("sites: unknown, used, expired or revoked credential")

// InputError is a refused field: the API answers 400.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func invalid(format string, a ...any) error { return &InputError{Msg: fmt.Sprintf(format, a...)} }

// Config configures a Service.
type Config struct {
	Dir store.Directory
	// EnrolTTL is how long an enrolment token is valid (default 24 h).
	EnrolTTL time.Duration
	Now      func() time.Time
	// Spans returns the recorded spans of a camera in its zone (the
	// index), for Missing; app wires it to the zone registry.
	Spans func(ctx context.Context, cam store.Camera, from, to time.Time) ([]store.Span, error)
}

// errNoSpans is Missing's error on a service built without Spans.
var errNoSpans = errors.New("sites: no span source configured")

// Service manages sites in the directory DB.
type Service struct{ c Config }

// New returns a Service.
func New(c Config) *Service {
	if c.EnrolTTL <= 0 {
		c.EnrolTTL = 24 * time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Service{c: c}
}

// Site is a site as the API shows it (never a token's hash).
type Site struct {
	ID    string
	OrgID string
	Name  string
	// Enrolled is true while an agent holds a valid credential;
	// EnrolPending while an enrolment token is valid.
	Enrolled     bool
	EnrolPending bool
	EnrolUntil   time.Time
	EnrolledAt   time.Time
	RevokedAt    time.Time
	CreatedBy    string
	CreatedAt    time.Time
	// Online is true when the agent's last heartbeat is within
	// OnlineWithin.
	Online bool
	Status store.SiteStatus
}

func (s *Service) fromRow(r store.Site) Site {
	now := s.c.Now()
	return Site{ID: r.ID, OrgID: r.OrgID, Name: r.Name, Enrolled: r.CredHash != "", EnrolPending: r.EnrolHash != "" && r.EnrolUntil.After(now),
		EnrolUntil: r.EnrolUntil, EnrolledAt: r.EnrolledAt, RevokedAt: r.RevokedAt, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt,
		Online: r.CredHash != "" && !r.Status.LastSeen.IsZero() && now.Sub(r.Status.LastSeen) < OnlineWithin, Status: r.Status}
}

// Enrolment is a site with its new one-time enrolment token (shown once).
type Enrolment struct {
	Site  Site
	Token string
}

// Create makes a site of orgID for p and its first enrolment token.
func (s *Service) Create(ctx context.Context, p *authz.Principal, orgID, name string) (Enrolment, error) {
	if err := authz.ManageSites(p, orgID); err != nil {
		return Enrolment{}, err
	}
	name, err := names.Check("name", strings.TrimSpace(name), maxName)
	if err != nil {
		return Enrolment{}, invalid("%s", err.Error())
	}
	tok, hash, err := auth.NewToken(EnrolPrefix)
	if err != nil {
		return Enrolment{}, err
	}
	now := s.c.Now().UTC().Truncate(time.Microsecond)
	row := store.Site{ID: newID(), OrgID: orgID, Name: name, EnrolHash: hash, EnrolUntil: now.Add(s.c.EnrolTTL), CreatedBy: p.UserID, CreatedAt: now}
	if err := s.c.Dir.CreateSite(ctx, row); err != nil {
		return Enrolment{}, err
	}
	return Enrolment{Site: s.fromRow(row), Token: tok}, nil
}

// List returns the sites of every organisation p is a member of.
func (s *Service) List(ctx context.Context, p *authz.Principal) ([]Site, error) {
	rows, err := s.c.Dir.ListSites(ctx, p.Orgs())
	if err != nil {
		return nil, err
	}
	out := make([]Site, 0, len(rows))
	for _, r := range rows {
		if authz.ViewSite(p, r.OrgID) == nil {
			out = append(out, s.fromRow(r))
		}
	}
	return out, nil
}

// Get returns site id if p may see it; ErrNotFound otherwise.
func (s *Service) Get(ctx context.Context, p *authz.Principal, id string) (Site, error) {
	r, err := s.c.Dir.GetSite(ctx, id)
	if err != nil {
		return Site{}, err
	}
	if err := authz.ViewSite(p, r.OrgID); err != nil {
		return Site{}, err
	}
	return s.fromRow(r), nil
}

// manage changes site id for p, an owner or admin of its organisation.
func (s *Service) manage(ctx context.Context, p *authz.Principal, id string, fn func(r *store.Site) error) (Site, error) {
	r, err := s.c.Dir.GetSite(ctx, id)
	if err != nil {
		return Site{}, err
	}
	if err := authz.ManageSites(p, r.OrgID); err != nil {
		return Site{}, err
	}
	_, after, err := s.c.Dir.ModifySite(ctx, id, fn)
	if err != nil {
		return Site{}, err
	}
	return s.fromRow(after), nil
}

// NewEnrolment hands out a new one-time enrolment token for site id,
// replacing a pending one. The current credential keeps working until an
// agent enrols with the new token (then it is replaced).
func (s *Service) NewEnrolment(ctx context.Context, p *authz.Principal, id string) (Enrolment, error) {
	tok, hash, err := auth.NewToken(EnrolPrefix)
	if err != nil {
		return Enrolment{}, err
	}
	until := s.c.Now().UTC().Add(s.c.EnrolTTL)
	st, err := s.manage(ctx, p, id, func(r *store.Site) error {
		r.EnrolHash, r.EnrolUntil = hash, until
		return nil
	})
	return Enrolment{Site: st, Token: tok}, err
}

// Revoke refuses site id's credential and any pending enrolment token at
// once: the agent's next call (heartbeat, upload, live relay) is refused.
func (s *Service) Revoke(ctx context.Context, p *authz.Principal, id string) (Site, error) {
	now := s.c.Now().UTC()
	return s.manage(ctx, p, id, func(r *store.Site) error {
		r.CredHash, r.EnrolHash, r.EnrolUntil, r.RevokedAt = "", "", time.Time{}, now
		return nil
	})
}

// Credential is an agent's new site credential (shown once).
type Credential struct {
	SiteID, OrgID, Credential string
}

// Enrol exchanges a one-time enrolment token for a site credential.
func (s *Service) Enrol(ctx context.Context, token string) (Credential, error) {
	if !wellFormed(token, EnrolPrefix) {
		return Credential{}, ErrBadCredential
	}
	cred, hash, err := auth.NewToken(CredentialPrefix)
	if err != nil {
		return Credential{}, err
	}
	r, err := s.c.Dir.EnrolSite(ctx, auth.HashToken(token), hash, s.c.Now().UTC())
	if errors.Is(err, store.ErrNotFound) {
		return Credential{}, ErrBadCredential
	}
	if err != nil {
		return Credential{}, err
	}
	return Credential{SiteID: r.ID, OrgID: r.OrgID, Credential: cred}, nil
}

// wellFormed is a cheap check before any lookup.
func wellFormed(tok, prefix string) bool {
	return len(tok) <= maxTokenLen && strings.HasPrefix(tok, prefix)
}

// Authenticate returns the agent a site credential belongs to;
// ErrBadCredential when it is unknown, rotated away or revoked.
func (s *Service) Authenticate(ctx context.Context, credential string) (*authz.Agent, error) {
	r, err := s.siteOf(ctx, credential)
	if err != nil {
		return nil, err
	}
	return &authz.Agent{SiteID: r.ID, OrgID: r.OrgID}, nil
}

func (s *Service) siteOf(ctx context.Context, credential string) (store.Site, error) {
	if !wellFormed(credential, CredentialPrefix) {
		return store.Site{}, ErrBadCredential
	}
	r, err := s.c.Dir.SiteByCredential(ctx, auth.HashToken(credential))
	if errors.Is(err, store.ErrNotFound) {
		return store.Site{}, ErrBadCredential
	}
	return r, err
}

// Rotate replaces the agent's credential with a new one: the old one is
// refused from the moment this returns.
func (s *Service) Rotate(ctx context.Context, credential string) (Credential, error) {
	r, err := s.siteOf(ctx, credential)
	if err != nil {
		return Credential{}, err
	}
	cred, hash, err := auth.NewToken(CredentialPrefix)
	if err != nil {
		return Credential{}, err
	}
	old := auth.HashToken(credential)
	_, _, err = s.c.Dir.ModifySite(ctx, r.ID, func(x *store.Site) error {
		if x.CredHash != old { // revoked or rotated meanwhile
			return ErrBadCredential
		}
		x.CredHash = hash
		return nil
	})
	if err != nil {
		return Credential{}, err
	}
	return Credential{SiteID: r.ID, OrgID: r.OrgID, Credential: cred}, nil
}

// Report is an agent's heartbeat.
type Report struct {
	AgentVersion          string
	BufferUsed, BufferMax int64
	Backlog               time.Duration
	BacklogBytes          int64
	UploadBPS             int64
}

// Camera is a camera of the agent's site, as its heartbeat answer lists it.
type Camera struct {
	ID, Name, Zone string
	Recording      string
}

// Heartbeat stores the agent's report as its site's status and returns
// the site's cameras. It is fenced on the credential: a revoked agent's
// report is refused and writes nothing.
func (s *Service) Heartbeat(ctx context.Context, credential string, rep Report) (Site, []Camera, error) {
	if err := rep.check(); err != nil {
		return Site{}, nil, err
	}
	r, err := s.siteOf(ctx, credential)
	if err != nil {
		return Site{}, nil, err
	}
	r.Status = store.SiteStatus{LastSeen: s.c.Now().UTC(), AgentVersion: rep.AgentVersion, BufferUsed: rep.BufferUsed, BufferMax: rep.BufferMax,
		Backlog: rep.Backlog, BacklogBytes: rep.BacklogBytes, UploadBPS: rep.UploadBPS}
	if err := s.c.Dir.PutSiteStatus(ctx, r.ID, r.CredHash, r.Status); errors.Is(err, store.ErrNotFound) {
		return Site{}, nil, ErrBadCredential
	} else if err != nil {
		return Site{}, nil, err
	}
	rows, err := s.c.Dir.ListCamerasBySite(ctx, r.ID)
	if err != nil {
		return Site{}, nil, err
	}
	a := &authz.Agent{SiteID: r.ID, OrgID: r.OrgID}
	cams := make([]Camera, 0, len(rows))
	for _, c := range rows {
		if authz.AgentCamera(a, c) == nil {
			cams = append(cams, Camera{ID: c.ID, Name: c.Name, Zone: c.Zone, Recording: c.Recording})
		}
	}
	return s.fromRow(r), cams, nil
}

func (rep Report) check() error {
	switch {
	case len(rep.AgentVersion) > maxAgentVersion:
		return invalid("agent_version: at most %d bytes", maxAgentVersion)
	case rep.BufferUsed < 0 || rep.BufferUsed > maxReportedBytes, rep.BufferMax < 0 || rep.BufferMax > maxReportedBytes,
		rep.BacklogBytes < 0 || rep.BacklogBytes > maxReportedBytes:
		return invalid("byte counts must be 0 to %d", int64(maxReportedBytes))
	case rep.Backlog < 0 || rep.Backlog > maxBacklog:
		return invalid("backlog_seconds out of range")
	case rep.UploadBPS < 0 || rep.UploadBPS > maxUploadBPS:
		return invalid("upload_bps must be 0 to %d", int64(maxUploadBPS))
	}
	if _, err := names.Check("agent_version", rep.AgentVersion, maxAgentVersion); rep.AgentVersion != "" && err != nil {
		return invalid("%s", err.Error())
	}
	return nil
}

// newID returns a random 128-bit id as 32 lower-case hex characters.
func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // the system random source never fails on Linux
	}
	return hex.EncodeToString(b[:])
}
