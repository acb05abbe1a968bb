package account

import (
	"context"
	"errors"

	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/store"
)

// BeginTOTP creates a new TOTP secret for u (not yet enabled), after
// checking u's current password, and returns it with the otpauth URL to
// show as a QR code. The secret is stored sealed.
func (s *Service) BeginTOTP(ctx context.Context, u store.User, password string) (secret, url string, err error) {
	if u.TOTPEnabled {
		return "", "", ErrTOTPEnabled
	}
	if err := s.checkPassword(u, password); err != nil {
		return "", "", err
	}
	secret, url, err = auth.NewTOTP("camcloud", u.Email)
	if err != nil {
		return "", "", err
	}
	sealed, err := s.box.Seal(secret, u.ID)
	if err != nil {
		return "", "", err
	}
	if err := s.dir.SetTOTPSecret(ctx, u.ID, sealed); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return "", "", ErrTOTPEnabled // enabled meanwhile
		}
		return "", "", err
	}
	return secret, url, nil
}

// ConfirmTOTP enables TOTP once the user proves they hold the secret. It
// enables the very secret it checked: a newer enrolment begun meanwhile is
// not enabled by an older one's code.
func (s *Service) ConfirmTOTP(ctx context.Context, u store.User, code string) error {
	if u.TOTPSecret == "" {
		return ErrBadTOTP
	}
	if err := s.checkSecondFactor(ctx, u, code, false); err != nil {
		return err
	}
	err := s.dir.EnableTOTP(ctx, u.ID, u.TOTPSecret)
	if errors.Is(err, store.ErrNotFound) {
		return ErrBadTOTP
	}
	return err
}

// DisableTOTP turns TOTP off and deletes the recovery codes, once the user
// gives a current TOTP code or a recovery code.
func (s *Service) DisableTOTP(ctx context.Context, u store.User, code string) error {
	if !u.TOTPEnabled {
		return ErrTOTPNotEnabled
	}
	if err := s.checkSecondFactor(ctx, u, code, true); err != nil {
		return err
	}
	return s.dir.DisableTOTP(ctx, u.ID)
}

// NewRecoveryCodes replaces u's recovery codes with new ones, after
// checking u's current password, and returns them to show once; only
// their hashes are stored. Each stands in for one TOTP code at login or
// for DisableTOTP.
func (s *Service) NewRecoveryCodes(ctx context.Context, u store.User, password string) ([]string, error) {
	if !u.TOTPEnabled {
		return nil, ErrTOTPNotEnabled
	}
	if err := s.checkPassword(u, password); err != nil {
		return nil, err
	}
	codes, err := auth.NewRecoveryCodes()
	if err != nil {
		return nil, err
	}
	hashes := make([]string, len(codes))
	for i, c := range codes {
		hashes[i], _ = auth.HashRecoveryCode(u.ID, c)
	}
	return codes, s.dir.SetRecoveryCodes(ctx, u.ID, hashes)
}

// CheckTOTP verifies a TOTP code of an enrolled user for a step-up action
// (support access): nil, ErrTOTPNotEnabled, ErrBadTOTP or ErrRateLimited.
func (s *Service) CheckTOTP(ctx context.Context, u store.User, code string) error {
	if !u.TOTPEnabled {
		return ErrTOTPNotEnabled
	}
	return s.checkSecondFactor(ctx, u, code, false)
}

// checkSecondFactor checks code against u's TOTP secret or, when recovery
// is set and code has a recovery code's shape, against u's recovery codes.
// Every check counts against a per-user limit (ErrRateLimited beyond it),
// so codes cannot be guessed quickly through any route.
func (s *Service) checkSecondFactor(ctx context.Context, u store.User, code string, recovery bool) error {
	if !s.secondFactor.Allow(u.ID, s.now()) {
		return ErrRateLimited
	}
	ok := false
	if auth.LooksLikeTOTP(code) {
		ok = s.useTOTP(ctx, u, code)
	} else if h, shaped := auth.HashRecoveryCode(u.ID, code); recovery && shaped {
		used, err := s.dir.UseRecoveryCode(ctx, u.ID, h)
		if err != nil {
			return err
		}
		ok = used
	}
	if !ok {
		return ErrBadTOTP
	}
	s.secondFactor.Reset(u.ID)
	return nil
}

// useTOTP accepts a code once: a code (time step) already used for this
// user, on any node, is refused, so an observed code cannot be replayed.
// An enabled secret still stored in plaintext is sealed on use.
func (s *Service) useTOTP(ctx context.Context, u store.User, code string) bool {
	secret, err := s.box.Open(u.TOTPSecret, u.ID)
	if err != nil {
		s.log.Error("totp: the stored secret cannot be opened (is totp_key or media_key the one it was sealed with?)", "user", u.ID, "err", err)
		return false
	}
	step, ok := auth.MatchTOTP(secret, code, s.now())
	if !ok {
		return false
	}
	fresh, err := s.dir.UseTOTPStep(ctx, u.ID, step)
	if err != nil {
		s.log.Error("totp: recording the used step failed", "user", u.ID, "err", err)
		return false
	}
	if fresh && u.TOTPEnabled && s.box != nil && !auth.Sealed(u.TOTPSecret) {
		if sealed, err := s.box.Seal(secret, u.ID); err == nil {
			if err := s.dir.ReplaceTOTPSecret(ctx, u.ID, u.TOTPSecret, sealed); err != nil && !errors.Is(err, store.ErrNotFound) {
				s.log.Warn("totp: sealing a plaintext secret failed", "user", u.ID, "err", err)
			}
		}
	}
	return fresh
}
