package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/account"
	"github.com/camcloud/camcloud/internal/store"
)

// TestFlagErrors: -h is not an error, unknown values are named.
func TestFlagErrors(t *testing.T) {
	dir := t.TempDir()
	secretGrant := filepath.Join(dir, "secret.yaml")
	if err := os.WriteFile(secretGrant, []byte("export:\n  audiences:\n    - name: bi\n      clear: [usage, secret]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		code int
		say  string
	}{
		{[]string{"serve", "--help"}, 0, "-data-dir"},
		{[]string{"sim", "-h"}, 0, "-cameras"},
		{[]string{"audit", "verify", "-h"}, 0, "-audit-key"},
		{[]string{"admin", "reset-password", "-h", "x@example.com"}, 0, "-directory"},
		{[]string{"serve", "--data-dir", dir, "--log-level", "verbose"}, 2, `unknown log_level "verbose"`},
		{[]string{"serve", "--data-dir", dir, "--role", "foo"}, 2, `unknown role "foo": the roles are all, api and camera-server`},
		{[]string{"admin"}, 2, "usage: camcloud admin reset-password"},
		{[]string{"admin", "reset-password"}, 2, "usage: camcloud admin reset-password"},
		{[]string{"data"}, 2, "usage: camcloud data export"},
		{[]string{"data", "export", "-h"}, 0, "-export-interval"},
		{[]string{"data", "export", "--data-dir", dir}, 1, "no export audience is configured"},
		{[]string{"data", "export", "--data-dir", dir, "--config", secretGrant}, 2, `export audience 0 (bi): clear: tag "secret" cannot be granted`},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var code int
			out := captureStderr(t, func() { code = run(tc.args) })
			if code != tc.code || !strings.Contains(out, tc.say) {
				t.Fatalf("exit %d, output %q; want exit %d saying %q", code, out, tc.code, tc.say)
			}
		})
	}
}

// TestResetPassword: `camcloud admin reset-password EMAIL` prints a new
// password once that logs in, ends the user's sessions, and is audited; an
// unknown email is a clear error.
func TestResetPassword(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	dsn := "sqlite:" + filepath.Join(dir, "directory.db")
	open := func() (store.Directory, *account.Service) {
		d, err := store.OpenDirectory(ctx, dsn, log)
		if err != nil {
			t.Fatal(err)
		}
		acc, err := account.New(d, log, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return d, acc
	}
	d, acc := open()
	if _, err := acc.CreateUser(ctx, "Admin@Example.com", "first-password-1", true); err != nil {
		t.Fatal(err)
	}
	token, _, _, err := acc.Login(ctx, "admin@example.com", "first-password-1", "", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	_ = d.Close()

	var out bytes.Buffer
	var code int
	errOut := captureStderr(t, func() { code = adminCmd([]string{"reset-password", "--data-dir", dir, "admin@example.com"}, &out) })
	if code != 0 {
		t.Fatalf("reset-password exited %d: %s", code, errOut)
	}
	const prefix = "new password of admin@example.com: "
	i := strings.Index(out.String(), prefix)
	if i < 0 {
		t.Fatalf("reset-password printed %q", out.String())
	}
	pw := strings.Fields(out.String()[i+len(prefix):])[0]

	d, acc = open()
	defer d.Close()
	if _, _, err := acc.Authenticate(ctx, token); err == nil {
		t.Error("a session from before the reset still works")
	}
	if _, _, _, err := acc.Login(ctx, "admin@example.com", "first-password-1", "", "127.0.0.1"); err == nil {
		t.Error("the old password still logs in")
	}
	if _, _, _, err := acc.Login(ctx, "admin@example.com", pw, "", "127.0.0.1"); err != nil {
		t.Errorf("the new password does not log in: %v", err)
	}
	entries, err := d.ListAudit(ctx, store.AuditFilter{Limit: 10})
	if err != nil || len(entries) == 0 || entries[0].Action != "user.reset_password" || entries[0].Detail != "admin@example.com" {
		t.Errorf("audit of the reset: %+v, %v", entries, err)
	}

	errOut = captureStderr(t, func() { code = adminCmd([]string{"reset-password", "--data-dir", dir, "nobody@example.com"}, &out) })
	if code != 1 || !strings.Contains(errOut, `no account has the email "nobody@example.com"`) {
		t.Errorf("unknown email: exit %d, %q", code, errOut)
	}
}
