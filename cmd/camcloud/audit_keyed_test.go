package main

import (
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/camcloud/camcloud/internal/apptest"
	"github.com/camcloud/camcloud/internal/audit"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/testenv"
)

// rewriteFrom edits entry seq and recomputes the chain from it with the
// unkeyed rule, as someone with write access to the database but without
// the audit key would.
func rewriteFrom(seq int64) func(t *testing.T, dataDir string, db *sql.DB) {
	return func(t *testing.T, dataDir string, db *sql.DB) {
		d, err := store.OpenDirectory(context.Background(), "sqlite:"+filepath.Join(dataDir, "directory.db"), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		var es []store.AuditEntry
		if err := d.ScanAudit(context.Background(), func(e store.AuditEntry) error { es = append(es, e); return nil }); err != nil {
			t.Fatal(err)
		}
		prev := es[seq-2].Hash
		for _, e := range es[seq-1:] {
			if e.Seq == seq {
				e.Actor = "nobody@example.com"
			}
			e.PrevHash = prev
			e.Hash = audit.ComputeHash(e)
			prev = e.Hash
			if _, err := db.Exec(`UPDATE audit_log SET actor = ?, prev_hash = ?, hash = ? WHERE seq = ?`, e.Actor, e.PrevHash, e.Hash, e.Seq); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestAuditVerifyKeyed runs camcloud, makes audited changes through its
// API and stops it (which publishes a checkpoint); `camcloud audit verify`
// passes, and fails after the chain was rewritten without the key or its
// newest entries were cut off (an unkeyed chain accepted both).
func TestAuditVerifyKeyed(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, dataDir string, db *sql.DB)
		want   string
	}{
		{"untouched", nil, ""},
		{"entry edited, chain recomputed", rewriteFrom(3), "audit entry 3: unkeyed hash after keyed entry 1"},
		{"newest entries cut off", func(t *testing.T, _ string, db *sql.DB) {
			if _, err := db.Exec(`DELETE FROM audit_log WHERE seq >= 4`); err != nil {
				t.Fatal(err)
			}
		}, "audit entry 4: missing (log truncated)"},
	} {
		// Not parallel: captureStderr redirects the process's stderr, so
		// parallel cases would read each other's verdicts.
		t.Run(tc.name, func(t *testing.T) {
			dataDir := t.TempDir()
			n := apptest.Start(t, "--data-dir", dataDir)
			var l struct{ Token string }
			testenv.APICall(t, n.Base, "", "POST", "/api/v1/auth/login", map[string]string{"email": apptest.AdminEmail, "password": apptest.AdminPassword}, &l)
			var o struct{ ID string }
			testenv.APICall(t, n.Base, l.Token, "POST", "/api/v1/orgs", map[string]string{"name": "o"}, &o)
			for _, name := range []string{"a", "b", "c"} {
				testenv.APICall(t, n.Base, l.Token, "POST", "/api/v1/cameras", map[string]any{"org_id": o.ID, "name": name}, nil)
			}
			n.Stop()
			n.App.Close()

			out := captureStderr(t, func() {
				if code := run([]string{"audit", "verify", "--data-dir", dataDir}); code != 0 {
					t.Error("verify failed on an untouched log")
				}
			})
			if !strings.Contains(out, "audit log OK: 5 entries") || !strings.Contains(out, "signed checkpoint") {
				t.Fatalf("verify said %q", out)
			}
			if tc.tamper == nil {
				return
			}
			db, err := sql.Open("sqlite", filepath.Join(dataDir, "directory.db"))
			if err != nil {
				t.Fatal(err)
			}
			tc.tamper(t, dataDir, db)
			_ = db.Close()
			out = captureStderr(t, func() {
				if code := run([]string{"audit", "verify", "--data-dir", dataDir}); code == 0 {
					t.Error("verify passed a tampered log")
				}
			})
			if !strings.Contains(out, tc.want) {
				t.Fatalf("verify said %q, want %q", out, tc.want)
			}
		})
	}
}
