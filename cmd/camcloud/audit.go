package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/camcloud/camcloud/internal/audit"
	"github.com/camcloud/camcloud/internal/config"
	"github.com/camcloud/camcloud/internal/store"
)

func auditCmd(args []string) int {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(os.Stderr, "usage: camcloud audit verify [--config FILE] [--data-dir DIR] [--directory DSN]")
		return 2
	}
	cfg, err := config.Load("audit verify", args[1:], os.LookupEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "camcloud audit verify:", err)
		return 2
	}
	ctx := context.Background()
	dir, err := store.OpenDirectory(ctx, cfg.Directory, newLogger("warn"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "camcloud audit verify: directory db:", err)
		return 1
	}
	defer func() { _ = dir.Close() }()
	n, err := audit.Verify(ctx, dir)
	if err != nil {
		var bad *audit.BadEntryError
		if errors.As(err, &bad) {
			fmt.Fprintf(os.Stderr, "audit log TAMPERED: %v (%d entries checked before it)\n", err, n)
			return 1
		}
		fmt.Fprintln(os.Stderr, "camcloud audit verify:", err)
		return 1
	}
	fmt.Printf("audit log OK: %d entries, hash chain intact\n", n)
	return 0
}
