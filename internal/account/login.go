package account

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/store"
)

// Login checks credentials (and the second factor when enrolled) and opens
// a session. Attempts are limited so that nobody can lock an account's
// owner out:
//
//   - per source address (refused beyond it): one address cannot try many
//     accounts;
//   - per account and address (refused beyond it): one address cannot try
//     many passwords of one account, and its failures spend only its own
//     budget, not that of the owner's address;
//   - per account, across addresses: once spent (a distributed attack),
//     addresses the account logged in from before (remembered 30 days) are
//     slowed, not refused; other addresses are refused until it refills.
//
// The limiters live in this process's memory: each api node counts its own.
func (s *Service) Login(ctx context.Context, email, password, totpCode, addr string) (token string, sess store.Session, u store.User, err error) {
	now := s.now()
	email = strings.ToLower(strings.TrimSpace(email))
	pair := email + "|" + addr
	if !s.perAddress.Allow(addr, now) || !s.perPair.Allow(pair, now) {
		return "", sess, u, ErrRateLimited
	}
	if !s.perAccount.Allow(email, now) {
		if !s.known.Has(pair, now) {
			return "", sess, u, ErrRateLimited
		}
		if err := sleep(ctx, s.slowdown); err != nil {
			return "", sess, u, err
		}
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
		if err := s.checkSecondFactor(ctx, u, totpCode, true); err != nil {
			return "", sess, u, err
		}
	}
	s.perPair.Reset(pair)
	s.known.Add(pair, now)
	token, hash, err := auth.NewToken(auth.SessionPrefix)
	if err != nil {
		return "", sess, u, err
	}
	sess = store.Session{TokenHash: hash, UserID: u.ID, CreatedAt: now.UTC(), ExpiresAt: now.Add(s.sessionTTL).UTC()}
	if err := s.dir.CreateSession(ctx, sess); err != nil {
		return "", sess, u, err
	}
	return token, sess, u, nil
}

// sleep waits d unless ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// AuditFailure reports whether a failed attempt keyed by key (the kind of
// failure and the user or address it concerns) should be written to the
// audit log: at most 3 at once and one a minute after that per key, and 60
// a minute in all, so that failures are on record without an attacker
// flooding the log.
func (s *Service) AuditFailure(key string) bool {
	now := s.now()
	return s.failAudit.Allow(key, now) && s.failAuditAll.Allow("", now)
}

// ChangePassword replaces a user's password after checking the old one,
// and ends every other session of the user (keep is the token hash of the
// session that asked; "" ends all). API keys stay valid: they are separate
// credentials, listed and revoked one by one.
func (s *Service) ChangePassword(ctx context.Context, u store.User, oldPW, newPW, keep string) error {
	if err := s.checkPassword(u, oldPW); err != nil {
		return err
	}
	if err := auth.ValidatePassword(newPW); err != nil {
		return &PasswordError{err}
	}
	h, err := auth.HashPassword(newPW)
	if err != nil {
		return err
	}
	if err := s.dir.SetPasswordHash(ctx, u.ID, h); err != nil {
		return err
	}
	_, err = s.dir.DeleteUserSessions(ctx, u.ID, keep)
	return err
}

// PasswordError is why a new password is refused (too short, say);
// handlers answer 400 with its message.
type PasswordError struct{ Err error }

func (e *PasswordError) Error() string { return e.Err.Error() }

func (e *PasswordError) Unwrap() error { return e.Err }

// checkPassword re-authenticates u with their current password, within a
// per-user limit (a stolen session must not become a password oracle).
func (s *Service) checkPassword(u store.User, password string) error {
	if !s.reauth.Allow(u.ID, s.now()) {
		return ErrRateLimited
	}
	ok, err := auth.VerifyPassword(u.PasswordHash, password)
	if err != nil || !ok {
		return ErrBadCredentials
	}
	s.reauth.Reset(u.ID)
	return nil
}

// ResetPassword gives the account of email a new random password, for an
// operator at the command line (`camcloud admin reset-password`), and ends
// every session of the user. It returns the user and the password, which
// the caller shows once. API keys stay valid, as with ChangePassword.
func (s *Service) ResetPassword(ctx context.Context, email string) (store.User, string, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return store.User{}, "", err
	}
	u, err := s.dir.GetUserByEmail(ctx, email)
	if err != nil {
		return store.User{}, "", err
	}
	pw := NewID()[:20]
	h, err := auth.HashPassword(pw)
	if err != nil {
		return store.User{}, "", err
	}
	if err := s.dir.SetPasswordHash(ctx, u.ID, h); err != nil {
		return store.User{}, "", err
	}
	if _, err := s.dir.DeleteUserSessions(ctx, u.ID, ""); err != nil {
		return store.User{}, "", err
	}
	return u, pw, nil
}
