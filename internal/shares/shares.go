// Package shares is the share-link service: a member with export (a
// recorded range) or live permission on a camera makes a link that anyone
// holding it may open without an account, until it expires or is revoked.
// A link's token is shown once and stored hashed; opening it (with its
// password, when it has one) counts a view and mints the same signed media
// tokens package auth makes for users, restricted to the link's camera and
// range and carrying the link's id, so that the playback and live media
// routes authorise holders exactly as they do users, and ask this service
// (Admit) on every request whether the link still holds.
package shares

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/camcloud/camcloud/internal/account"
	"github.com/camcloud/camcloud/internal/audit"
	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/cameras"
	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/zone"
)

// Bounds and defaults of links.
const (
	// DefaultExpiry is a link's lifetime when expires_in is not given.
	DefaultExpiry = 7 * 24 * time.Hour
	// MaxExpiry is the longest lifetime a link may have.
	MaxExpiry = 30 * 24 * time.Hour
	// MinExpiry is the shortest (tests make links that expire at once).
	MinExpiry = time.Second
	// MaxViews bounds a link's view limit.
	MaxViews = 1_000_000
	// MaxNote bounds a link's note in characters.
	MaxNote = 500
	// MinPassword is the shortest password a link may have, in characters.
	MinPassword = 6
	// TokenPrefix starts every share token, so that a leaked one is
	// recognisable.
	TokenPrefix = "cc_l_"
	// mediaLife bounds the life of a media token minted at an opening
	// (the link's expiry bounds it too).
	mediaLife = 12 * time.Hour
	// liveLife is the life of a live media token: players open the link
	// again for a new one.
	liveLife = 10 * time.Minute
	// maxList bounds one listing.
	maxList = 1000
)

// Deps is what the service needs.
type Deps struct {
	Dir     store.Directory
	Cameras *cameras.Service
	Signer  *auth.Signer
	Audit   *audit.Log
	// Locate finds the camera server holding a camera, for live links;
	// nil: live links cannot be opened (409 offline).
	Locate zone.Locate
	// MaxRange bounds a link's recorded range: the export limit
	// (max_clip).
	MaxRange time.Duration
	Log      *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Service manages share links. It keeps no state between requests but
// the limiter of wrong passwords.
type Service struct {
	d      Deps
	log    *slog.Logger
	wrong  *auth.Limiter // wrong passwords per link
	opens  *auth.Limiter // openings per source address
	audits *auth.Limiter // audit entries of refusals per link
}

// New builds the service.
func New(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.MaxRange <= 0 {
		d.MaxRange = 2 * time.Hour
	}
	return &Service{d: d, log: d.Log.With("component", "shares"),
		wrong: auth.NewLimiter(10, 5, 10000), opens: auth.NewLimiter(600, 300, 10000), audits: auth.NewLimiter(1, 3, 10000)}
}

// Spec is a link as asked for: a range [From, To) or Live, and the rest.
type Spec struct {
	From, To      *time.Time
	Live          bool
	ExpiresIn     *int64 // seconds
	Password      string
	AllowDownload bool
	MaxViews      int
	Note          string
}

// Link is a share link as the API shows it (never its token or password).
type Link struct {
	ID            string
	OrgID         string
	CameraID      string
	CameraName    string
	Live          bool
	From, To      time.Time
	HasPassword   bool
	AllowDownload bool
	MaxViews      int
	Views         int
	Note          string
	CreatedBy     string
	SharedBy      string
	CreatedAt     time.Time
	Expires       time.Time
	Revoked       time.Time
	// State is "active", "expired", "revoked" or "used_up".
	State string
}

// link converts a row for the API, at now.
func link(s store.Share, cam store.Camera, now time.Time) Link {
	return Link{ID: s.ID, OrgID: s.OrgID, CameraID: s.CameraID, CameraName: cam.Name, Live: s.Live, From: s.From, To: s.To,
		HasPassword: s.PasswordHash != "", AllowDownload: s.AllowDownload, MaxViews: s.MaxViews, Views: s.Views, Note: s.Note,
		CreatedBy: s.CreatedBy, SharedBy: s.CreatedByEmail, CreatedAt: s.CreatedAt, Expires: s.Expires, Revoked: s.Revoked,
		State: state(s, now)}
}

// state says whether s is usable at now, and if not why.
func state(s store.Share, now time.Time) string {
	switch {
	case !s.Revoked.IsZero():
		return "revoked"
	case !now.Before(s.Expires):
		return "expired"
	case s.MaxViews > 0 && s.Views >= s.MaxViews:
		return "used_up"
	}
	return "active"
}

// Perm is the camera permission a link needs: live for a live link,
// export for a recorded range (authz.CreateShare decides).
func Perm(live bool) string {
	if live {
		return authz.PermLive
	}
	return authz.PermExport
}

// Create makes a link of cam for rq's caller and returns it with its
// token, which is shown only now.
func (s *Service) Create(ctx context.Context, rq *httpapi.Request, cam store.Camera, sp Spec) (Link, string, error) {
	if err := authz.CreateShare(rq.P, cam, sp.Live); err != nil {
		return Link{}, "", err
	}
	now := s.d.Now().UTC()
	row := store.Share{ID: account.NewID(), OrgID: cam.OrgID, CameraID: cam.ID, Live: sp.Live, AllowDownload: sp.AllowDownload && !sp.Live,
		MaxViews: sp.MaxViews, Note: strings.TrimSpace(sp.Note), CreatedBy: rq.User.ID, CreatedByEmail: rq.User.Email,
		CreatedAt: now.Truncate(time.Microsecond)}
	if err := s.validate(sp, &row, now); err != nil {
		return Link{}, "", err
	}
	if sp.Password != "" {
		h, err := auth.HashPassword(sp.Password)
		if err != nil {
			return Link{}, "", err
		}
		row.PasswordHash = h
	}
	token, hash, err := auth.NewToken(TokenPrefix)
	if err != nil {
		return Link{}, "", err
	}
	row.TokenHash = hash
	if err := s.d.Dir.CreateShare(ctx, row); err != nil {
		if errors.Is(err, store.ErrLimit) {
			return Link{}, "", httpapi.Errorf(http.StatusConflict, "limit", "the organisation has %d active share links: revoke some first", store.MaxSharesPerOrg)
		}
		return Link{}, "", err
	}
	return link(row, cam, now), token, nil
}

// validate checks sp and fills row's range, expiry and bounds.
func (s *Service) validate(sp Spec, row *store.Share, now time.Time) error {
	switch {
	case sp.Live && (sp.From != nil || sp.To != nil):
		return httpapi.BadRequest("a live link has no from or to")
	case !sp.Live && (sp.From == nil || sp.To == nil):
		return httpapi.BadRequest("from and to are required (RFC 3339), or live:true")
	case sp.Live && sp.AllowDownload:
		return httpapi.BadRequest("allow_download is for recorded ranges: a live link has nothing to download")
	}
	if !sp.Live {
		from, to := sp.From.UTC(), sp.To.UTC()
		if from.Year() < 1970 || to.Year() > 2199 {
			return httpapi.BadRequest("from and to must be between 1970 and 2199")
		}
		if !to.After(from) {
			return httpapi.BadRequest("to must be after from")
		}
		if to.Sub(from) > s.d.MaxRange {
			return httpapi.Errorf(http.StatusBadRequest, "range_too_long", "a share link may cover at most %s (the export limit), asked for %s",
				s.d.MaxRange, to.Sub(from).Round(time.Second))
		}
		row.From, row.To = from.Truncate(time.Microsecond), to.Truncate(time.Microsecond)
	}
	life := DefaultExpiry
	if sp.ExpiresIn != nil {
		secs := *sp.ExpiresIn
		if secs < int64(MinExpiry/time.Second) || secs > int64(MaxExpiry/time.Second) {
			return httpapi.BadRequest("expires_in must be %d to %d seconds (at most 30 days), got %d",
				int64(MinExpiry/time.Second), int64(MaxExpiry/time.Second), secs)
		}
		life = time.Duration(secs) * time.Second
	}
	row.Expires = row.CreatedAt.Add(life)
	if sp.MaxViews < 0 || sp.MaxViews > MaxViews {
		return httpapi.BadRequest("max_views must be 0 (no limit) to %d", MaxViews)
	}
	if sp.Password != "" {
		if n := utf8.RuneCountInString(sp.Password); !utf8.ValidString(sp.Password) || n < MinPassword || len(sp.Password) > auth.MaxPasswordBytes {
			return httpapi.BadRequest("a link's password must have %d to %d characters", MinPassword, auth.MaxPasswordBytes)
		}
	}
	return checkNote(row.Note)
}

// checkNote refuses a note that is too long or holds control characters
// (newlines and tabs aside).
func checkNote(n string) error {
	if !utf8.ValidString(n) || utf8.RuneCountInString(n) > MaxNote {
		return httpapi.BadRequest("note must be valid text of at most %d characters", MaxNote)
	}
	for _, r := range n {
		if unicode.IsControl(r) && r != '\n' && r != '\t' || unicode.Is(unicode.Bidi_Control, r) {
			return httpapi.BadRequest("note holds a control character (U+%04X)", r)
		}
	}
	return nil
}

// auditShare records what a link's holder did, from addr.
func (s *Service) auditShare(ctx context.Context, sh store.Share, addr, action, detail string) {
	if s.d.Audit == nil {
		return
	}
	e := store.AuditEntry{Actor: "share:" + sh.ID, Address: addr, Action: action, Target: "share:" + sh.ID,
		OrgID: sh.OrgID, CameraID: sh.CameraID, Detail: detail}
	if _, err := s.d.Audit.RecordDetached(ctx, e); err != nil {
		s.log.Error("audit write failed", "action", action, "share", sh.ID, "err", err)
	}
}

// rangeText is a link's range for audit details.
func rangeText(sh store.Share) string {
	if sh.Live {
		return "live"
	}
	return fmt.Sprintf("%s..%s", sh.From.Format(time.RFC3339), sh.To.Format(time.RFC3339))
}
