package store

import (
	"database/sql"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseDSN(t *testing.T) {
	for _, tc := range []struct {
		dsn          string
		driver       string
		sourceHas    []string
		sourceHasNot []string
		wantErr      bool
	}{
		{dsn: "sqlite:/var/lib/camcloud/dir.db", driver: "sqlite", sourceHas: []string{"/var/lib/camcloud/dir.db?", "journal_mode(WAL)", "busy_timeout", "foreign_keys(1)", "synchronous(NORMAL)"}},
		{dsn: "sqlite:///abs/zone.db", driver: "sqlite", sourceHas: []string{"/abs/zone.db?"}},
		{dsn: "sqlite:rel/zone.db", driver: "sqlite", sourceHas: []string{"rel/zone.db?"}},
		{dsn: "mysql://u:secret@tcp(db:3306)/camcloud?timeout=5s&multiStatements=true", driver: "mysql",
			sourceHas: []string{"parseTime=true", "clientFoundRows=true", "/camcloud", "timeout=5s"}, sourceHasNot: []string{"multiStatements"}},
		{dsn: "sqlite:", wantErr: true},
		{dsn: "sqlite:/x.db?mode=ro", wantErr: true},
		{dsn: "sqlite::memory:", wantErr: true},
		{dsn: "mysql://u:p@tcp(db:3306)/", wantErr: true},
		{dsn: "mysql://u:p@tcp(db:3306)/bad`name", wantErr: true},
		{dsn: "mysql://u:p@tcp(db:3306", wantErr: true},
		{dsn: "postgres://x", wantErr: true},
		{dsn: "", wantErr: true},
	} {
		driver, source, err := ParseDSN(tc.dsn)
		if tc.wantErr {
			if err == nil {
				t.Errorf("ParseDSN(%q) succeeded, want error", tc.dsn)
			} else if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), ":p@") {
				t.Errorf("ParseDSN(%q) error leaks the password: %v", tc.dsn, err)
			}
			continue
		}
		if err != nil || driver != tc.driver {
			t.Errorf("ParseDSN(%q) = %q, %v; want driver %q", tc.dsn, driver, err, tc.driver)
			continue
		}
		for _, s := range tc.sourceHas {
			if !strings.Contains(source, s) {
				t.Errorf("ParseDSN(%q) source %q lacks %q", tc.dsn, source, s)
			}
		}
		for _, s := range tc.sourceHasNot {
			if strings.Contains(source, s) {
				t.Errorf("ParseDSN(%q) source %q has %q", tc.dsn, source, s)
			}
		}
	}
	if got := RedactDSN("mysql://u:secret@tcp(db:3306)/camcloud"); strings.Contains(got, "secret") {
		t.Errorf("RedactDSN kept the password: %s", got)
	}
}

// TestReopen checks that data survives a reopen and that migrations are
// recorded once, even with both schemas in one database and several
// processes opening it at the same time.
func TestReopen(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		ctx := ctxT(t)
		// Two "processes" open the new database at once.
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i%2 == 0 {
					z, err := OpenZone(ctx, dsn, testLog())
					if err == nil {
						z.Close()
					}
					errs[i] = err
				} else {
					d, err := OpenDirectory(ctx, dsn, testLog())
					if err == nil {
						d.Close()
					}
					errs[i] = err
				}
			}()
		}
		wg.Wait()
		for _, err := range errs {
			must(t, err)
		}

		z := openZone(t, dsn)
		d := openDir(t, dsn)
		must(t, z.InsertSegment(ctx, seg("reopen", t0, 0, 60)))
		must(t, d.CreateOrg(ctx, Org{ID: "o", Name: "Reopened"}))
		must(t, z.Close())
		must(t, d.Close())

		z = openZone(t, dsn)
		d = openDir(t, dsn)
		must(t, z.Ping(ctx))
		must(t, d.Ping(ctx))
		if s, err := z.SegmentAt(ctx, "reopen", t0.Add(time.Second)); err != nil || s.Key == "" {
			t.Fatalf("segment lost on reopen: %+v %v", s, err)
		}
		if o, err := d.GetOrg(ctx, "o"); err != nil || o.Name != "Reopened" {
			t.Fatalf("org lost on reopen: %+v %v", o, err)
		}
		db := z.(*zone).db
		for scope, list := range map[string][]migration{"zone": zoneMigrations, "directory": directoryMigrations} {
			var n int
			must(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations WHERE scope = ?", scope).Scan(&n))
			if n != len(list) {
				t.Errorf("schema_migrations has %d %s rows, want %d", n, scope, len(list))
			}
		}
	})
}

// TestMigrationNewerSchema checks that a database migrated by a newer
// binary still opens.
func TestMigrationNewerSchema(t *testing.T) {
	dsn := sqliteDSN(t)
	z := openZone(t, dsn)
	_, err := z.(*zone).db.Exec("INSERT INTO schema_migrations (scope, version, name, applied_us) VALUES ('zone', 999, 'future', 0)")
	must(t, err)
	must(t, z.Close())
	openZone(t, dsn)
}

// TestSQLitePragmas checks that every pooled SQLite connection is set up.
func TestSQLitePragmas(t *testing.T) {
	z := openZone(t, sqliteDSN(t))
	db := z.(*zone).db
	ctx := ctxT(t)
	// Hold two connections so that both are distinct pool members.
	c1, err := db.Conn(ctx)
	must(t, err)
	defer c1.Close()
	c2, err := db.Conn(ctx)
	must(t, err)
	defer c2.Close()
	for _, c := range []*sql.Conn{c1, c2} {
		var mode string
		var fk, sync, busy int
		must(t, c.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode))
		must(t, c.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk))
		must(t, c.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync))
		must(t, c.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy))
		if mode != "wal" || fk != 1 || sync != 1 || busy < 1000 {
			t.Errorf("pragmas: journal_mode=%s foreign_keys=%d synchronous=%d busy_timeout=%d", mode, fk, sync, busy)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := ctxT(t)
	if _, err := OpenZone(ctx, "nosuch:/x", testLog()); err == nil {
		t.Error("OpenZone with a bad DSN succeeded")
	}
	// A MySQL server that is not there fails quickly with an error.
	if _, err := OpenDirectory(ctx, "mysql://u:p@tcp(127.0.0.1:1)/x?timeout=1s", testLog()); err == nil {
		t.Error("OpenDirectory to a closed port succeeded")
	}
}
