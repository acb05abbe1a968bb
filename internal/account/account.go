// Package account is the accounts service: bootstrap of the platform admin,
// login with lockout-resistant rate limits, the TOTP second factor (secrets
// sealed at rest, recovery codes, every check rate-limited), sessions, API
// keys with scopes and expiry, and password changes that end the user's
// other sessions. Handlers call it; it calls the directory repository,
// writing a user's columns one change at a time so that concurrent changes
// never undo each other.
package account

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/store"
)

// Errors the service returns; handlers map them to statuses.
var (
	ErrBadCredentials  = errors.New("wrong email or password")
	ErrRateLimited     = errors.New("too many attempts, try again later")
	ErrTOTPRequired    = errors.New("a TOTP code is required")
	ErrBadTOTP         = errors.New("wrong TOTP code")
	ErrUnauthenticated = errors.New("not logged in or session expired")
	// ErrTOTPEnabled: enrolment was asked for while TOTP is enabled.
	ErrTOTPEnabled = errors.New("TOTP is already enabled")
	// ErrTOTPNotEnabled: the action needs TOTP to be enabled.
	ErrTOTPNotEnabled = errors.New("TOTP is not enabled")
	// ErrBadKeyRequest: an API key's scope or expiry is not acceptable.
	ErrBadKeyRequest = errors.New("scope must be full or read, and expires_at in the future (at most 10 years ahead)")
)

// Defaults of the limits that New sets.
const (
	// loginSlowdown is how long a login from an address the account
	// logged in from before waits while the account is under attack
	// (its account-wide budget spent): slowed, not refused.
	loginSlowdown = time.Second
	// knownAddressTTL is how long a successful login's address stays known.
	knownAddressTTL = 30 * 24 * time.Hour
	// limiterKeys bounds the keys each limiter remembers.
	limiterKeys = 100000
)

// Service implements account operations over the directory.
type Service struct {
	dir        store.Directory
	log        *slog.Logger
	sessionTTL time.Duration
	// Login limits (package doc of login.go): per source address, per
	// account and address, and per account; known remembers where each
	// account logged in from, so that its owner gets in while strangers
	// spend the account's budget.
	perAddress *auth.Limiter
	perPair    *auth.Limiter
	perAccount *auth.Limiter
	known      *auth.Recent
	slowdown   time.Duration
	// secondFactor limits TOTP and recovery code checks per user, reauth
	// password re-checks per user, failAudit the audit entries of failures.
	secondFactor *auth.Limiter
	reauth       *auth.Limiter
	failAudit    *auth.Limiter
	failAuditAll *auth.Limiter
	// box seals TOTP secrets at rest; nil keeps them in plaintext.
	box *auth.SecretBox
	now func() time.Time
}

// New returns the service. sessionTTL is capped at 12 h. TOTP secrets are
// stored in plaintext until SetSecretKey is called.
func New(dir store.Directory, log *slog.Logger, sessionTTL time.Duration) (*Service, error) {
	if sessionTTL <= 0 || sessionTTL > 12*time.Hour {
		sessionTTL = 12 * time.Hour
	}
	return &Service{
		dir: dir, log: log, sessionTTL: sessionTTL,
		perAddress:   auth.NewLimiter(30, 20, limiterKeys),
		perPair:      auth.NewLimiter(10, 5, limiterKeys),
		perAccount:   auth.NewLimiter(30, 20, limiterKeys),
		known:        auth.NewRecent(knownAddressTTL, limiterKeys),
		slowdown:     loginSlowdown,
		secondFactor: auth.NewLimiter(5, 5, limiterKeys),
		reauth:       auth.NewLimiter(5, 5, limiterKeys),
		failAudit:    auth.NewLimiter(1, 3, limiterKeys),
		failAuditAll: auth.NewLimiter(60, 60, 1),
		now:          time.Now,
	}, nil
}

// SetLimits replaces the login rate limiters (per account and per source
// address), e.g. for a deployment behind a trusted proxy or a benchmark.
// perAccount also limits each account and address pair.
func (s *Service) SetLimits(perAccount, perAddress *auth.Limiter) {
	s.perAccount, s.perPair, s.perAddress = perAccount, perAccount, perAddress
}

// SetSecretKey makes the service keep TOTP secrets encrypted with a key
// derived from key (the configured totp_key, or the media key). Secrets
// stored in plaintext before still work and are encrypted when next used.
func (s *Service) SetSecretKey(key []byte) error {
	b, err := auth.NewSecretBox(key)
	if err != nil {
		return err
	}
	s.box = b
	return nil
}

// NewID returns a random 128-bit id as 32 lower-case hex characters.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // the system random source never fails on Linux
	}
	return hex.EncodeToString(b[:])
}

// NormalizeEmail lower-cases and trims an email and checks its shape.
func NormalizeEmail(e string) (string, error) {
	e = strings.ToLower(strings.TrimSpace(e))
	at := strings.IndexByte(e, '@')
	if len(e) > 254 || at < 1 || at == len(e)-1 || strings.ContainsAny(e, " \t\r\n<>\"") {
		return "", fmt.Errorf("%q is not a valid email address", e)
	}
	return e, nil
}

// DefaultAdminEmail is the platform admin Bootstrap creates when no email
// is configured (CAMCLOUD_ADMIN_EMAIL).
const DefaultAdminEmail = "admin@camcloud.local"

// Bootstrap creates the platform admin when the directory has no user yet.
// When password is empty a random one is generated and returned (to be
// printed once). created is false when users already existed.
func (s *Service) Bootstrap(ctx context.Context, email, password string) (created bool, pw string, err error) {
	n, err := s.dir.CountUsers(ctx)
	if err != nil || n > 0 {
		return false, "", err
	}
	if email == "" {
		email = DefaultAdminEmail
	}
	if email, err = NormalizeEmail(email); err != nil {
		return false, "", err
	}
	if password == "" {
		password = NewID()[:20]
	}
	if err := auth.ValidatePassword(password); err != nil {
		return false, "", fmt.Errorf("CAMCLOUD_ADMIN_PASSWORD: %w", err)
	}
	if _, err := s.CreateUser(ctx, email, password, true); err != nil {
		return false, "", err
	}
	return true, password, nil
}

// CreateUser creates an account; ErrConflict when the email is taken.
func (s *Service) CreateUser(ctx context.Context, email, password string, platformAdmin bool) (store.User, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return store.User{}, err
	}
	if err := auth.ValidatePassword(password); err != nil {
		return store.User{}, err
	}
	h, err := auth.HashPassword(password)
	if err != nil {
		return store.User{}, err
	}
	u := store.User{ID: NewID(), Email: email, PasswordHash: h, PlatformAdmin: platformAdmin, CreatedAt: s.now().UTC()}
	if err := s.dir.CreateUser(ctx, u); err != nil {
		return store.User{}, err
	}
	return u, nil
}

func unauth(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return ErrUnauthenticated
	}
	return err
}

// Logout ends the session of token.
func (s *Service) Logout(ctx context.Context, token string) error {
	return s.dir.DeleteSession(ctx, auth.HashToken(token))
}

// SetActing records on a session that a platform operator acts as orgID's
// role (support access); empty orgID ends it. The session keeps its expiry,
// so support access never outlives 12 h.
func (s *Service) SetActing(ctx context.Context, sess store.Session, orgID, role string) error {
	sess.ActingOrgID, sess.ActingRole = orgID, role
	return s.dir.UpdateSession(ctx, sess)
}

// Principal loads what authorisation needs to know of an authenticated
// user: their roles, their camera grants and, for a platform admin on
// support duty, the role the session assumes.
func (s *Service) Principal(ctx context.Context, u store.User, sess store.Session) (*authz.Principal, error) {
	ms, err := s.dir.ListMemberships(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	gs, err := s.dir.ListGrantsForUser(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	p := &authz.Principal{UserID: u.ID, Email: u.Email, PlatformAdmin: u.PlatformAdmin,
		Roles: map[string]string{}, Grants: map[string][]string{},
		ActingOrgID: sess.ActingOrgID, ActingRole: sess.ActingRole}
	for _, m := range ms {
		p.Roles[m.OrgID] = m.Role
	}
	for _, g := range gs {
		p.Grants[g.CameraID] = g.Permissions
	}
	if !u.PlatformAdmin {
		p.ActingOrgID, p.ActingRole = "", ""
	}
	return p, nil
}
