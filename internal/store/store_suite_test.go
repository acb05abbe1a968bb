package store

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/testenv"
)

// forEngines runs fn once per engine, each time with the DSN of a new,
// empty database: SQLite always, MySQL when testenv.MySQLEnv is set (else the
// subtest skips, or fails in strict mode).
func forEngines(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, sqliteDSN(t)) })
	t.Run("mysql", func(t *testing.T) { fn(t, mysqlDSN(t)) })
}

// sqliteDSN returns a DSN for a new SQLite file in a nested, missing directory.
func sqliteDSN(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "sub", "dir", "test.db")
}

// mysqlDSN returns a DSN for a new database on the test server.
func mysqlDSN(t testing.TB) string { return testenv.MySQLDSN(t) }

// testLog discards logs; tests assert behaviour, not log lines.
func testLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// ctxT returns a context bounded so that a hung database fails the test.
func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func openDir(t testing.TB, dsn string) Directory {
	t.Helper()
	d, err := OpenDirectory(ctxT(t), dsn, testLog())
	if err != nil {
		t.Fatalf("OpenDirectory: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func openZone(t testing.TB, dsn string) Zone {
	t.Helper()
	z, err := OpenZone(ctxT(t), dsn, testLog())
	if err != nil {
		t.Fatalf("OpenZone: %v", err)
	}
	t.Cleanup(func() { z.Close() })
	return z
}

// must fails the test on err.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErr fails unless err is (or wraps) want.
func wantErr(t testing.TB, err, want error) {
	t.Helper()
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
}

// t0 is a fixed instant with sub-second, non-UTC parts, to check that
// times round-trip exactly at microsecond precision.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793000, time.FixedZone("JST", 9*3600))
