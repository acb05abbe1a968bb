package main

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/camcloud/camcloud/internal/audit"
	"github.com/camcloud/camcloud/internal/store"
)

// TestAuditVerifyCommand: `camcloud audit verify` passes on a fresh log and
// fails, naming the entry, after a row is edited by hand in the database.
func TestAuditVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := store.OpenDirectory(ctx, "sqlite:"+filepath.Join(dir, "directory.db"), log)
	if err != nil {
		t.Fatal(err)
	}
	al := audit.New(d, log)
	for i, a := range []string{"org.create", "camera.create", "camera.update", "member.add"} {
		if _, err := al.Record(ctx, store.AuditEntry{Actor: "admin@example.com", Address: "127.0.0.1", Action: a, Target: "camera:" + string(rune('a'+i))}); err != nil {
			t.Fatal(err)
		}
	}
	_ = d.Close()

	if code := runQuiet(t, "audit", "verify", "--data-dir", dir); code != 0 {
		t.Fatalf("verify on a fresh log exited %d", code)
	}

	db, err := sql.Open("sqlite", filepath.Join(dir, "directory.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE audit_log SET actor = 'someone-else' WHERE seq = 3`); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()

	out := captureStderr(t, func() {
		if code := run([]string{"audit", "verify", "--data-dir", dir}); code == 0 {
			t.Error("verify passed after a row was edited")
		}
	})
	if want := "entry 3"; !contains(out, want) {
		t.Fatalf("verify output %q does not name %q", out, want)
	}
}

func runQuiet(t *testing.T, args ...string) int {
	var code int
	captureStderr(t, func() { code = run(args) })
	return code
}

func captureStderr(t *testing.T, fn func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old, oldOut := os.Stderr, os.Stdout
	os.Stderr, os.Stdout = w, w
	done := make(chan string)
	go func() { b, _ := io.ReadAll(r); done <- string(b) }()
	fn()
	os.Stderr, os.Stdout = old, oldOut
	_ = w.Close()
	return <-done
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
