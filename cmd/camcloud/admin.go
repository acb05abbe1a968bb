package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/camcloud/camcloud/internal/app"
	"github.com/camcloud/camcloud/internal/config"
)

const adminUsage = "usage: camcloud admin reset-password [--config FILE] [--data-dir DIR] [--directory DSN] EMAIL"

// adminCmd is `camcloud admin reset-password EMAIL`: a new password for an
// account (the platform admin's one-time password lost, say), printed
// once, audited, every session of the user ended.
func adminCmd(args []string, out io.Writer) int {
	if len(args) == 0 || args[0] != "reset-password" {
		fmt.Fprintln(os.Stderr, adminUsage)
		return 2
	}
	args = args[1:]
	// The email is the last argument; flags come before it.
	if len(args) == 0 || len(args[len(args)-1]) == 0 || args[len(args)-1][0] == '-' {
		fmt.Fprintln(os.Stderr, adminUsage)
		return 2
	}
	email := args[len(args)-1]
	cfg, err := config.Load("admin reset-password", args[:len(args)-1], os.LookupEnv)
	if err != nil {
		return flagError("camcloud admin reset-password", err)
	}
	ctx := context.Background()
	a, err := app.New(ctx, cfg, newLogger("warn"), app.Options{Out: io.Discard})
	if err != nil {
		fmt.Fprintln(os.Stderr, "camcloud admin reset-password:", err)
		return 1
	}
	defer a.Close()
	pw, err := a.ResetPassword(ctx, email)
	if err != nil {
		fmt.Fprintln(os.Stderr, "camcloud admin reset-password:", err)
		return 1
	}
	fmt.Fprintf(out, "camcloud: new password of %s: %s\n(shown once; every session of the account was ended)\n", email, pw)
	return 0
}
