// Package account is the accounts service: bootstrap of the platform admin,
// login with rate limits and TOTP, sessions, API keys and password changes.
// Handlers call it; it calls the directory repository.
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
	ErrRateLimited     = errors.New("too many login attempts, try again later")
	ErrTOTPRequired    = errors.New("a TOTP code is required")
	ErrBadTOTP         = errors.New("wrong TOTP code")
	ErrUnauthenticated = errors.New("not logged in or session expired")
)

// Service implements account operations over the directory DB.
type Service struct {
	dir        store.Directory
	log        *slog.Logger
	sessionTTL time.Duration
	perAccount *auth.Limiter
	perAddress *auth.Limiter
	now        func() time.Time
}

// New returns the service. sessionTTL is capped at 12 h.
func New(dir store.Directory, log *slog.Logger, sessionTTL time.Duration) (*Service, error) {
	if sessionTTL <= 0 || sessionTTL > 12*time.Hour {
		sessionTTL = 12 * time.Hour
	}
	return &Service{
		dir: dir, log: log, sessionTTL: sessionTTL,
		perAccount: auth.NewLimiter(10, 5, 100000),
		perAddress: auth.NewLimiter(30, 20, 100000),
		now:        time.Now,
	}, nil
}

// SetLimits replaces the login rate limiters (per account and per source
// address), e.g. for a deployment behind a trusted proxy or a benchmark.
func (s *Service) SetLimits(perAccount, perAddress *auth.Limiter) {
	s.perAccount, s.perAddress = perAccount, perAddress
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

// Bootstrap creates the platform admin when the directory has no user yet.
// When password is empty a random one is generated and returned (to be
// printed once). created is false when users already existed.
func (s *Service) Bootstrap(ctx context.Context, email, password string) (created bool, pw string, err error) {
	n, err := s.dir.CountUsers(ctx)
	if err != nil || n > 0 {
		return false, "", err
	}
	if email == "" {
		email = "admin@camcloud.local"
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

// Login checks credentials (and the TOTP code when enrolled) and opens a
// session. Attempts are limited per account and per source address.
func (s *Service) Login(ctx context.Context, email, password, totpCode, addr string) (token string, sess store.Session, u store.User, err error) {
	now := s.now()
	email = strings.ToLower(strings.TrimSpace(email))
	if !s.perAddress.Allow(addr, now) || !s.perAccount.Allow(email, now) {
		return "", sess, u, ErrRateLimited
	}
	u, err = s.dir.GetUserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		// Cost the same as a known account, so emails cannot be probed by timing.
		auth.DummyVerifyPassword(password)
		return "", sess, u, ErrBadCredentials
	}
	if err != nil {
		return "", sess, u, err
	}
	ok, err := auth.VerifyPassword(u.PasswordHash, password)
	if err != nil || !ok {
		return "", sess, u, ErrBadCredentials
	}
	if u.TOTPEnabled {
		if totpCode == "" {
			return "", sess, u, ErrTOTPRequired
		}
		if !s.useTOTP(ctx, u, totpCode) {
			return "", sess, u, ErrBadTOTP
		}
	}
	s.perAccount.Reset(email)
	token, hash, err := auth.NewToken("cc_s_")
	if err != nil {
		return "", sess, u, err
	}
	sess = store.Session{TokenHash: hash, UserID: u.ID, CreatedAt: now.UTC(), ExpiresAt: now.Add(s.sessionTTL).UTC()}
	if err := s.dir.CreateSession(ctx, sess); err != nil {
		return "", sess, u, err
	}
	return token, sess, u, nil
}

// Authenticate resolves a session token or an API key to its user.
// The returned session is zero for API keys.
func (s *Service) Authenticate(ctx context.Context, token string) (store.User, store.Session, error) {
	if token == "" || len(token) > 200 {
		return store.User{}, store.Session{}, ErrUnauthenticated
	}
	hash := auth.HashToken(token)
	now := s.now()
	if strings.HasPrefix(token, "cc_k_") {
		k, err := s.dir.GetAPIKeyByHash(ctx, hash)
		if err != nil {
			return store.User{}, store.Session{}, unauth(err)
		}
		u, err := s.dir.GetUser(ctx, k.UserID)
		if err != nil {
			return store.User{}, store.Session{}, unauth(err)
		}
		if k.LastUsed == nil || now.Sub(*k.LastUsed) > time.Minute {
			_ = s.dir.TouchAPIKey(ctx, k.ID, now.UTC())
		}
		return u, store.Session{}, nil
	}
	sess, err := s.dir.GetSession(ctx, hash)
	if err != nil {
		return store.User{}, store.Session{}, unauth(err)
	}
	if !now.Before(sess.ExpiresAt) {
		_ = s.dir.DeleteSession(ctx, hash)
		return store.User{}, store.Session{}, ErrUnauthenticated
	}
	u, err := s.dir.GetUser(ctx, sess.UserID)
	if err != nil {
		return store.User{}, store.Session{}, unauth(err)
	}
	return u, sess, nil
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

// ChangePassword replaces a user's password after checking the old one.
func (s *Service) ChangePassword(ctx context.Context, u store.User, oldPW, newPW string) error {
	ok, err := auth.VerifyPassword(u.PasswordHash, oldPW)
	if err != nil || !ok {
		return ErrBadCredentials
	}
	if err := auth.ValidatePassword(newPW); err != nil {
		return err
	}
	h, err := auth.HashPassword(newPW)
	if err != nil {
		return err
	}
	u.PasswordHash = h
	return s.dir.UpdateUser(ctx, u)
}

// BeginTOTP creates a new TOTP secret for u (not yet enabled) and returns the
// otpauth URL to show as a QR code.
func (s *Service) BeginTOTP(ctx context.Context, u store.User) (secret, url string, err error) {
	secret, url, err = auth.NewTOTP("camcloud", u.Email)
	if err != nil {
		return "", "", err
	}
	u.TOTPSecret, u.TOTPEnabled = secret, false
	return secret, url, s.dir.UpdateUser(ctx, u)
}

// ConfirmTOTP enables TOTP once the user proves they hold the secret.
func (s *Service) ConfirmTOTP(ctx context.Context, u store.User, code string) error {
	if u.TOTPSecret == "" || !s.useTOTP(ctx, u, code) {
		return ErrBadTOTP
	}
	u.TOTPEnabled = true
	return s.dir.UpdateUser(ctx, u)
}

// CheckTOTP verifies a code for an enrolled user (for step-up actions).
func (s *Service) CheckTOTP(ctx context.Context, u store.User, code string) bool {
	return u.TOTPEnabled && s.useTOTP(ctx, u, code)
}

// useTOTP accepts a code once: a code (time step) already used for this
// user, on any node, is refused, so an observed code cannot be replayed.
func (s *Service) useTOTP(ctx context.Context, u store.User, code string) bool {
	step, ok := auth.MatchTOTP(u.TOTPSecret, code, s.now())
	if !ok {
		return false
	}
	fresh, err := s.dir.UseTOTPStep(ctx, u.ID, step)
	if err != nil {
		s.log.Error("totp: recording the used step failed", "user", u.ID, "err", err)
		return false
	}
	return fresh
}

// CreateAPIKey issues a key for u; the key is returned once and stored hashed.
func (s *Service) CreateAPIKey(ctx context.Context, u store.User, name string) (store.APIKey, string, error) {
	token, hash, err := auth.NewToken("cc_k_")
	if err != nil {
		return store.APIKey{}, "", err
	}
	k := store.APIKey{ID: NewID(), UserID: u.ID, Name: name, Prefix: token[:9], Hash: hash, CreatedAt: s.now().UTC()}
	if err := s.dir.CreateAPIKey(ctx, k); err != nil {
		return store.APIKey{}, "", err
	}
	return k, token, nil
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

// ListAPIKeys returns u's API keys (never the keys themselves).
func (s *Service) ListAPIKeys(ctx context.Context, userID string) ([]store.APIKey, error) {
	return s.dir.ListAPIKeys(ctx, userID)
}

// DeleteAPIKey revokes one of userID's keys; ErrNotFound for another's.
func (s *Service) DeleteAPIKey(ctx context.Context, userID, id string) error {
	return s.dir.DeleteAPIKey(ctx, userID, id)
}
