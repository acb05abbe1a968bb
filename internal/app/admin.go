package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/camcloud/camcloud/internal/store"
)

// ResetPassword sets a new random password on the account of email, ends
// its sessions and writes the audit entry user.reset_password; it returns
// the password, to be shown once. It is `camcloud admin reset-password`:
// whoever runs it holds the process's configuration and data, so it needs
// no login.
func (a *App) ResetPassword(ctx context.Context, email string) (string, error) {
	u, pw, err := a.Accounts.ResetPassword(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("no account has the email %q", email)
	}
	if err != nil {
		return "", err
	}
	if _, err := a.Audit.Record(ctx, store.AuditEntry{Actor: "command line", Address: "local", Action: "user.reset_password",
		Target: "user:" + u.ID, Detail: u.Email}); err != nil {
		return "", fmt.Errorf("password reset, but the audit entry failed: %w", err)
	}
	return pw, nil
}
