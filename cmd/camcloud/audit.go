package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/camcloud/camcloud/internal/audit"
	"github.com/camcloud/camcloud/internal/config"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/zone"
)

func auditCmd(args []string) int {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(os.Stderr, "usage: camcloud audit verify [--config FILE] [--data-dir DIR] [--directory DSN] [--audit-key KEY]")
		return 2
	}
	cfg, err := config.Load("audit verify", args[1:], os.LookupEnv)
	if err != nil {
		return flagError("camcloud audit verify", err)
	}
	ctx := context.Background()
	key, src, err := audit.ResolveKey(cfg.AuditKey, cfg.MediaKey, cfg.DataDir, false)
	if err != nil {
		fmt.Fprintln(os.Stderr, "camcloud audit verify: audit key:", err)
		return 1
	}
	dir, err := store.OpenDirectory(ctx, cfg.Directory, newLogger("warn"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "camcloud audit verify: directory db:", err)
		return 1
	}
	defer func() { _ = dir.Close() }()
	v := audit.Verifier{Key: key}
	if key.Valid() {
		if v.Checkpoint, err = latestCheckpoint(ctx, cfg, key); err != nil {
			return tampered(err, 0)
		}
	}
	res, err := v.Verify(ctx, dir)
	if err != nil {
		return tampered(err, res.Checked)
	}
	switch {
	case !key.Valid():
		fmt.Printf("audit log OK: %d entries, hash chain intact (unkeyed: no audit key was found, so neither a recomputed chain nor a cut-off end can be told)\n", res.Checked)
	case v.Checkpoint == nil && res.Checked > 0:
		fmt.Fprintf(os.Stderr, "audit log NOT VERIFIED: %d entries chain up, but no signed checkpoint was found in zone %s's store, so a rewritten or cut-off log cannot be told\n",
			res.Checked, cfg.Zones[0].Name)
		return 1
	default:
		fmt.Printf("audit log OK: %d entries (%d unkeyed, from before the key), hash chain intact, key %s", res.Checked, res.Unkeyed, src)
		if v.Checkpoint != nil {
			fmt.Printf(", reaches the signed checkpoint of %s (entry %d)", v.Checkpoint.Time.Format("2006-01-02T15:04:05Z"), v.Checkpoint.Seq)
		}
		fmt.Println()
	}
	return 0
}

// latestCheckpoint reads the newest checkpoint from the first zone's store,
// where api nodes publish them.
func latestCheckpoint(ctx context.Context, cfg config.Config, key audit.Key) (*audit.Checkpoint, error) {
	bs, err := zone.OpenStore(ctx, cfg.Zones[0].Store)
	if err != nil {
		return nil, fmt.Errorf("zone %s store: %w", cfg.Zones[0].Name, err)
	}
	return audit.LatestCheckpoint(ctx, bs, key)
}

// tampered reports a failed verification: a bad entry or checkpoint as
// tampering, anything else as an error. It returns the exit code.
func tampered(err error, checked int64) int {
	var bad *audit.BadEntryError
	switch {
	case errors.As(err, &bad):
		fmt.Fprintf(os.Stderr, "audit log TAMPERED: %v (%d entries checked before it)\n", err, checked)
	case errors.Is(err, audit.ErrBadCheckpoint):
		fmt.Fprintf(os.Stderr, "audit log TAMPERED: %v\n", err)
	default:
		fmt.Fprintln(os.Stderr, "camcloud audit verify:", err)
	}
	return 1
}
