package apptest

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/account"
	"github.com/camcloud/camcloud/internal/store"
)

// Accounts opens a directory DB in a new SQLite file and an accounts
// service on it (sessions of 1 h), for tests of the services built on
// accounts without a whole node. Both are closed at cleanup.
func Accounts(t testing.TB) (store.Directory, *account.Service) {
	t.Helper()
	return AccountsAt(t, "sqlite:"+filepath.Join(t.TempDir(), "dir.db"))
}

// AccountsAt is Accounts on the directory DB at dsn (e.g. a
// testenv.MySQLDSN).
func AccountsAt(t testing.TB, dsn string) (store.Directory, *account.Service) {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	dir, err := store.OpenDirectory(context.Background(), dsn, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dir.Close() })
	accts, err := account.New(dir, log, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return dir, accts
}
