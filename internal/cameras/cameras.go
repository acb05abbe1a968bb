// Package cameras is the camera registry service: creation with an ingest
// secret and a zone, key rotation, edits, deletion, the lookup of a camera
// for a principal ("load this camera, may this principal do X"), status,
// per-camera grants, and the check that a pushed stream carries the
// camera's secret.
package cameras

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/account"
	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/netpolicy"
	"github.com/camcloud/camcloud/internal/redact"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/zone"
)

// Errors for ingest authorisation; the ingest servers log them.
var (
	ErrUnknownCamera = errors.New("unknown camera")
	ErrWrongSecret   = errors.New("wrong ingest secret")
	ErrRecordingOff  = errors.New("camera is not a push camera or recording is off")
	// ErrSiteRevoked refuses a camera at a site whose agent credential is
	// revoked (or was never issued): revocation stops the live relay too.
	ErrSiteRevoked = errors.New("the camera's site has no enrolled agent (credential revoked)")
)

// errNoZones is the zone error of a service built without zones.
var errNoZones = errors.New("cameras: no zones")

// ValidationError is a bad field in a request; handlers answer 400.
type ValidationError struct {
	Msg  string
	Code string // the API error code; "" is bad_request
}

func (e *ValidationError) Error() string { return e.Msg }

// ErrCode is the API error code of the refusal: Code, or bad_request.
func (e *ValidationError) ErrCode() string {
	if e.Code == "" {
		return "bad_request"
	}
	return e.Code
}

// CodeDestinationRefused is the API error code of a pull URL whose host is
// an address the destination policy refuses.
const CodeDestinationRefused = "destination_refused"

func invalid(format string, a ...any) error { return &ValidationError{Msg: fmt.Sprintf(format, a...)} }

// Service manages cameras in the directory DB.
type Service struct {
	// PullPolicy checks the host of a pull URL when it is an address (names
	// are checked by the camera server when it dials). Nil: netpolicy's
	// default, public addresses only.
	PullPolicy *netpolicy.Policy

	dir      store.Directory
	registry *zone.Registry
	zones    []string
	log      *slog.Logger
	now      func() time.Time
}

// New returns the service; zones are the zones this process opened (their
// names are where new cameras may go, their databases tell camera status);
// log receives status read failures (nil discards them). With no zones
// (nil) cameras are found but none is created and none has a status.
func New(dir store.Directory, zones *zone.Registry, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{dir: dir, registry: zones, log: log, now: time.Now}
	if zones != nil {
		s.zones = zones.Names()
	}
	return s
}

// zone opens a camera's zone; an error when this process does not serve it.
func (s *Service) zone(name string) (*zone.Zone, error) {
	if s.registry == nil {
		return nil, errNoZones
	}
	return s.registry.Get(name)
}

// Source is where a camera's video comes from.
type Source struct {
	Type string `json:"type"`
	URL  string `json:"url,omitempty"`
}

// Spec is what a caller may set on a camera; nil fields are left unchanged
// by Update.
type Spec struct {
	Name          *string
	Source        *Source
	RetentionDays *int
	Recording     *string
	Zone          *string
	Motion        *Motion
	// Labels, when set, replace the camera's labels (an empty map removes
	// them all).
	Labels *map[string]string
	// SiteID puts the camera at a site of its organisation ("": none).
	SiteID *string
}

// Create registers a camera in orgID and returns it with its ingest secret,
// which is shown once and stored only hashed.
func (s *Service) Create(ctx context.Context, orgID string, sp Spec) (store.Camera, string, error) {
	c := store.Camera{ID: account.NewID(), OrgID: orgID, RetentionDays: 30, Recording: "continuous", SourceType: "push", CreatedAt: s.now().UTC()}
	if sp.Name == nil {
		return c, "", invalid("name is required")
	}
	if sp.Zone != nil && *sp.Zone != "" {
		if !contains(s.zones, *sp.Zone) {
			return c, "", invalid("zone %q does not exist", *sp.Zone)
		}
		c.Zone = *sp.Zone
	} else {
		z, err := s.emptiestZone(ctx)
		if err != nil {
			return c, "", err
		}
		c.Zone = z
	}
	if err := s.checkSite(ctx, orgID, sp.SiteID); err != nil {
		return c, "", err
	}
	if err := s.apply(&c, sp); err != nil {
		return c, "", err
	}
	secret, hash := newSecret()
	c.IngestSecretHash = hash
	if err := s.dir.CreateCamera(ctx, c); err != nil {
		return c, "", err
	}
	return c, secret, nil
}

// Update changes the fields set in sp on the camera as it is in the
// directory when the change is written (c only names it and its zone): a
// concurrent edit or key rotation is kept. It returns the camera and what
// changed. The zone of a camera cannot change.
//
// An update that turns a pull camera into a push camera also replaces its
// ingest secret in the same write and returns the new one (otherwise
// secret is ""): the camera now needs URLs to push to, and the secret made
// when it was created as a pull camera was never meant to be used.
func (s *Service) Update(ctx context.Context, c store.Camera, sp Spec) (after store.Camera, changed Changes, secret string, err error) {
	if sp.Zone != nil && *sp.Zone != c.Zone {
		return c, nil, "", invalid("a camera's zone cannot be changed")
	}
	if err := s.checkSite(ctx, c.OrgID, sp.SiteID); err != nil {
		return c, nil, "", err
	}
	before, after, err := s.dir.ModifyCamera(ctx, c.ID, func(cur *store.Camera) error {
		secret = ""
		wasPull := cur.SourceType == "pull"
		if err := s.apply(cur, sp); err != nil {
			return err
		}
		if wasPull && cur.SourceType == "push" {
			secret, cur.IngestSecretHash = newSecret()
		}
		return nil
	})
	if err != nil {
		return c, nil, "", err
	}
	return after, diff(before, after), secret, nil
}

// RotateKey replaces the camera's ingest secret and returns the new one;
// nothing else of the camera is written.
func (s *Service) RotateKey(ctx context.Context, c store.Camera) (store.Camera, string, error) {
	secret, hash := newSecret()
	_, after, err := s.dir.ModifyCamera(ctx, c.ID, func(cur *store.Camera) error { cur.IngestSecretHash = hash; return nil })
	if err != nil {
		return c, "", err
	}
	return after, secret, nil
}

// AuthorizePublish checks that secret is the ingest secret of a push camera
// that records; camera servers call it before reading any media.
func (s *Service) AuthorizePublish(ctx context.Context, cameraID, secret string) error {
	c, err := s.dir.GetCamera(ctx, cameraID)
	if errors.Is(err, store.ErrNotFound) {
		return ErrUnknownCamera
	}
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(auth.HashToken(secret)), []byte(c.IngestSecretHash)) != 1 {
		return ErrWrongSecret
	}
	if c.SourceType != "push" || c.Recording == "off" {
		return ErrRecordingOff
	}
	if c.SiteID != "" {
		site, err := s.dir.GetSite(ctx, c.SiteID)
		if errors.Is(err, store.ErrNotFound) || err == nil && site.CredHash == "" {
			return ErrSiteRevoked
		}
		return err
	}
	return nil
}

// checkSite validates a camera's new site: one of the camera's
// organisation. Sites never move between organisations and are never
// deleted, so what is checked here still holds when the camera is written.
func (s *Service) checkSite(ctx context.Context, orgID string, siteID *string) error {
	if siteID == nil || *siteID == "" {
		return nil
	}
	site, err := s.dir.GetSite(ctx, *siteID)
	if errors.Is(err, store.ErrNotFound) || err == nil && site.OrgID != orgID {
		return invalid("site_id: no such site in the camera's organisation")
	}
	return err
}

func (s *Service) emptiestZone(ctx context.Context) (string, error) {
	if len(s.zones) == 0 {
		return "", errNoZones
	}
	if len(s.zones) == 1 {
		return s.zones[0], nil
	}
	counts, err := s.dir.CountCamerasByZone(ctx)
	if err != nil {
		return "", err
	}
	best := s.zones[0]
	for _, z := range s.zones[1:] {
		if counts[z] < counts[best] {
			best = z
		}
	}
	return best, nil
}

func newSecret() (secret, hash string) {
	secret = account.NewID()
	return secret, auth.HashToken(secret)
}

func (s *Service) apply(c *store.Camera, sp Spec) error {
	if sp.SiteID != nil {
		c.SiteID = *sp.SiteID
	}
	if sp.Name != nil {
		n, err := ValidateName(*sp.Name)
		if err != nil {
			return err
		}
		c.Name = n
	}
	if sp.RetentionDays != nil {
		if *sp.RetentionDays < 1 || *sp.RetentionDays > 3650 {
			return invalid("retention_days must be between 1 and 3650")
		}
		c.RetentionDays = *sp.RetentionDays
	}
	if sp.Recording != nil {
		if *sp.Recording != "continuous" && *sp.Recording != "off" {
			return invalid("recording must be \"continuous\" or \"off\"")
		}
		c.Recording = *sp.Recording
	}
	if err := applyMotion(c, sp.Motion); err != nil {
		return err
	}
	if sp.Labels != nil {
		l, err := ValidateLabels(*sp.Labels)
		if err != nil {
			return err
		}
		c.Labels = l
	}
	if sp.Source != nil {
		switch sp.Source.Type {
		case "push":
			if sp.Source.URL != "" {
				return invalid("a push source takes no url")
			}
			c.SourceType, c.SourceURL = "push", ""
		case "pull":
			if err := ValidatePullURL(sp.Source.URL); err != nil {
				return err
			}
			if err := s.checkDestination(sp.Source.URL); err != nil {
				return err
			}
			c.SourceType, c.SourceURL = "pull", sp.Source.URL
		default:
			return invalid("source.type must be \"push\" or \"pull\"")
		}
	}
	return nil
}

// ValidatePullURL checks an RTSP URL a camera server will pull from.
func ValidatePullURL(raw string) error {
	if raw == "" {
		return invalid("a pull source needs url")
	}
	if len(raw) > 2048 {
		return invalid("source.url is longer than 2048 characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return invalid("source.url is not a URL")
	}
	if u.Scheme != "rtsp" && u.Scheme != "rtsps" {
		return invalid("source.url must be an rtsp:// or rtsps:// URL")
	}
	if u.Hostname() == "" {
		return invalid("source.url has no host")
	}
	if p := u.Port(); p != "" {
		var n int
		if _, err := fmt.Sscanf(p, "%d", &n); err != nil || n < 1 || n > 65535 {
			return invalid("source.url has a bad port")
		}
	}
	if strings.ContainsAny(raw, " \r\n\t") {
		return invalid("source.url contains whitespace")
	}
	return nil
}

// checkDestination refuses a pull URL whose host is an address (or
// localhost) that the pull destination policy refuses.
func (s *Service) checkDestination(raw string) error {
	u, err := url.Parse(raw) // ValidatePullURL parsed it already
	if err != nil {
		return invalid("source.url is not a URL")
	}
	port := uint16(554)
	if u.Scheme == "rtsps" {
		port = 322
	}
	if p := u.Port(); p != "" {
		var n int
		_, _ = fmt.Sscanf(p, "%d", &n)
		port = uint16(n)
	}
	pol := s.PullPolicy
	if pol == nil {
		pol = netpolicy.New(nil)
	}
	if err := pol.CheckHost(u.Hostname(), port); err != nil {
		return &ValidationError{Msg: "source.url: " + err.Error(), Code: CodeDestinationRefused}
	}
	return nil
}

// RedactURL hides the password and credential query values (password=,
// token= ...) of a URL for display and logs.
func RedactURL(raw string) string { return redact.URL(raw, "xxxxx") }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
