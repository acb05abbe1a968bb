package audit

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/camcloud/camcloud/internal/store"
	_ "modernc.org/sqlite" // raw SQL access to the file, as an intruder would
)

// openSQLite opens a directory store in a fresh SQLite file.
func openSQLite(t *testing.T, path string) store.Directory {
	t.Helper()
	dir, err := store.OpenDirectory(context.Background(), "sqlite:"+path, nil)
	if err != nil {
		t.Fatalf("OpenDirectory: %v", err)
	}
	t.Cleanup(func() { dir.Close() })
	return dir
}

// rawSQLite opens the database file with plain SQL, as an intruder would.
func rawSQLite(t *testing.T, path string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

func TestSQLiteTamperDetection(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "directory.db")
	dir := openSQLite(t, path)
	recorded := record(t, newTestLog(dir), 6)

	// What the database gives back is exactly what was hashed.
	var i int
	err := dir.ScanAudit(ctx, func(e store.AuditEntry) error {
		if w := recorded[i]; e.Seq != w.Seq || !e.Time.Equal(w.Time) || e.Hash != w.Hash || e.Detail != w.Detail {
			t.Errorf("stored entry %d differs:\n got  %+v\n want %+v", e.Seq, e, w)
		}
		i++
		return nil
	})
	if err != nil || i != 6 {
		t.Fatalf("ScanAudit: %d entries, %v", i, err)
	}
	if n, err := Verify(ctx, dir); n != 6 || err != nil {
		t.Fatalf("Verify = %d, %v; want 6, nil", n, err)
	}

	raw := rawSQLite(t, path)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	expectBad := func(want string) {
		t.Helper()
		_, err := Verify(ctx, dir)
		var bad *BadEntryError
		if !errors.As(err, &bad) || err.Error() != want {
			t.Fatalf("Verify = %v; want %q", err, want)
		}
	}

	exec("UPDATE audit_log SET detail = ? WHERE seq = ?", `{"n":"innocent"}`, 3)
	expectBad("audit entry 3: hash mismatch (row changed)")

	exec("UPDATE audit_log SET detail = ? WHERE seq = ?", recorded[2].Detail, 3)
	if n, err := Verify(ctx, dir); n != 6 || err != nil {
		t.Fatalf("after restoring the row: Verify = %d, %v; want 6, nil", n, err)
	}

	exec("DELETE FROM audit_log WHERE seq = ?", 4)
	expectBad("audit entry 4: missing (row removed); 3 is followed by 5")
}

func TestSQLiteTwoNodes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "directory.db")
	// Two handles on one file stand for two api nodes sharing a directory DB.
	logs := []*Log{newTestLog(openSQLite(t, path)), newTestLog(openSQLite(t, path))}
	var wg sync.WaitGroup
	for _, l := range logs {
		for range 2 {
			wg.Go(func() {
				for i := range 15 {
					if _, err := l.Record(ctx, entry(i)); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	if n, err := Verify(ctx, openSQLite(t, path)); n != 60 || err != nil {
		t.Fatalf("Verify = %d, %v; want 60, nil", n, err)
	}
}

// racingDir lets another node append just before each of the first n appends.
type racingDir struct {
	store.Directory
	n     int
	other *Log
	t     *testing.T
}

func (r *racingDir) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	if r.n > 0 {
		r.n--
		if _, err := r.other.Record(ctx, entry(1000+r.n)); err != nil {
			r.t.Errorf("other node: %v", err)
		}
	}
	return r.Directory.AppendAudit(ctx, e)
}

func TestSQLiteRetryAfterLostRace(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "directory.db")
	other := newTestLog(openSQLite(t, path))
	l := newTestLog(&racingDir{Directory: openSQLite(t, path), n: 2, other: other, t: t})
	e, err := l.Record(ctx, entry(1))
	if err != nil {
		t.Fatalf("Record after two lost races: %v", err)
	}
	if e.Seq != 3 {
		t.Fatalf("Seq %d; want 3", e.Seq)
	}
	if n, err := Verify(ctx, other.dir); n != 3 || err != nil {
		t.Fatalf("Verify = %d, %v; want 3, nil", n, err)
	}
}
