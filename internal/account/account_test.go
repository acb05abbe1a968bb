package account_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/account"
	"github.com/camcloud/camcloud/internal/apptest"
	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestStaleSnapshotsKeepBothChanges: a password change and a TOTP
// confirmation, each working from the user row as it was read before the
// other wrote, both survive. A slow confirm used to rewrite the whole row
// with the old password hash and lock the owner out.
func TestStaleSnapshotsKeepBothChanges(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { staleSnapshots(t, "sqlite:"+filepath.Join(t.TempDir(), "dir.db")) })
	t.Run("mysql", func(t *testing.T) { staleSnapshots(t, testenv.MySQLDSN(t)) })
}

func staleSnapshots(t *testing.T, dsn string) {
	ctx := context.Background()
	dir, s := apptest.AccountsAt(t, dsn)
	u, err := s.CreateUser(ctx, "alice@example.com", "old-password-1", false)
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := s.BeginTOTP(ctx, u, "old-password-1")
	if err != nil {
		t.Fatal(err)
	}
	stale, err := dir.GetUser(ctx, u.ID) // what the slow confirm read
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ChangePassword(ctx, stale, "old-password-1", "new-password-1", ""); err != nil {
		t.Fatal(err)
	}
	code, _ := auth.TOTPCode(secret, time.Now())
	if err := s.ConfirmTOTP(ctx, stale, code); err != nil {
		t.Fatal(err)
	}
	got, err := dir.GetUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := auth.VerifyPassword(got.PasswordHash, "new-password-1"); !ok {
		t.Error("the password change was lost")
	}
	if !got.TOTPEnabled {
		t.Error("the TOTP confirmation was lost")
	}
}

// TestSecondFactorLimited: every check of a code counts against one
// per-user budget, whichever method checks it, and a right code after the
// budget is spent is refused too.
func TestSecondFactorLimited(t *testing.T) {
	ctx := context.Background()
	dir, s := apptest.Accounts(t)
	if err := s.SetSecretKey([]byte("0123456789abcdef0123456789abcdef")); err != nil {
		t.Fatal(err)
	}
	u, _ := s.CreateUser(ctx, "bob@example.com", "password-bob-1", false)
	secret, _, err := s.BeginTOTP(ctx, u, "password-bob-1")
	if err != nil {
		t.Fatal(err)
	}
	u, _ = dir.GetUser(ctx, u.ID)
	code, _ := auth.TOTPCode(secret, time.Now())
	if err := s.ConfirmTOTP(ctx, u, code); err != nil {
		t.Fatal(err)
	}
	u, _ = dir.GetUser(ctx, u.ID)
	checks := []func() error{
		func() error { return s.CheckTOTP(ctx, u, "000000") },
		func() error { return s.DisableTOTP(ctx, u, "aaaa-bbbb-cccc-dddd") },
		func() error {
			_, _, _, err := s.Login(ctx, u.Email, "password-bob-1", "999999", "10.0.0.1")
			return err
		},
	}
	var errs []error
	for i := range 6 {
		errs = append(errs, checks[i%len(checks)]())
	}
	for i, err := range errs[:5] {
		if !errors.Is(err, account.ErrBadTOTP) {
			t.Fatalf("check %d: %v, want ErrBadTOTP", i, err)
		}
	}
	if !errors.Is(errs[5], account.ErrRateLimited) {
		t.Fatalf("sixth check: %v, want ErrRateLimited", errs[5])
	}
	next, _ := auth.TOTPCode(secret, time.Now().Add(30*time.Second))
	if err := s.CheckTOTP(ctx, u, next); !errors.Is(err, account.ErrRateLimited) {
		t.Fatalf("right code with the budget spent: %v", err)
	}
}

// TestRecoveryCodesOnce: a recovery code logs in once, on behalf of the
// TOTP code; new codes replace the old ones.
func TestRecoveryCodesOnce(t *testing.T) {
	ctx := context.Background()
	dir, s := apptest.Accounts(t)
	u, _ := s.CreateUser(ctx, "carol@example.com", "password-carol", false)
	if _, err := s.NewRecoveryCodes(ctx, u, "password-carol"); !errors.Is(err, account.ErrTOTPNotEnabled) {
		t.Fatalf("recovery codes without TOTP: %v", err)
	}
	secret, _, _ := s.BeginTOTP(ctx, u, "password-carol")
	u, _ = dir.GetUser(ctx, u.ID)
	code, _ := auth.TOTPCode(secret, time.Now())
	if err := s.ConfirmTOTP(ctx, u, code); err != nil {
		t.Fatal(err)
	}
	u, _ = dir.GetUser(ctx, u.ID)
	if _, err := s.NewRecoveryCodes(ctx, u, "wrong-password"); !errors.Is(err, account.ErrBadCredentials) {
		t.Fatalf("recovery codes with a wrong password: %v", err)
	}
	old, err := s.NewRecoveryCodes(ctx, u, "password-carol")
	if err != nil {
		t.Fatal(err)
	}
	codes, err := s.NewRecoveryCodes(ctx, u, "password-carol")
	if err != nil {
		t.Fatal(err)
	}
	login := func(c string) error {
		_, _, _, err := s.Login(ctx, u.Email, "password-carol", c, "10.0.0.2")
		return err
	}
	if err := login(old[0]); !errors.Is(err, account.ErrBadTOTP) {
		t.Fatalf("replaced code: %v", err)
	}
	if err := login(codes[3]); err != nil {
		t.Fatalf("recovery code: %v", err)
	}
	if err := login(codes[3]); !errors.Is(err, account.ErrBadTOTP) {
		t.Fatalf("recovery code used twice: %v", err)
	}
	if err := s.CheckTOTP(ctx, u, codes[4]); !errors.Is(err, account.ErrBadTOTP) {
		t.Fatalf("recovery code for support access: %v", err)
	}
}
