package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// OpenDirectory opens (creating if needed) the directory database at dsn and
// brings its schema up to date. See ParseDSN for the DSN forms.
func OpenDirectory(ctx context.Context, dsn string, log *slog.Logger) (Directory, error) {
	b, err := open(ctx, dsn, "directory", directoryMigrations, log)
	if err != nil {
		return nil, err
	}
	return &directory{b}, nil
}

// OpenZone opens (creating if needed) a zone database at dsn and brings its
// schema up to date. See ParseDSN for the DSN forms.
func OpenZone(ctx context.Context, dsn string, log *slog.Logger) (Zone, error) {
	b, err := open(ctx, dsn, "zone", zoneMigrations, log)
	if err != nil {
		return nil, err
	}
	return &zone{b}, nil
}

// open connects to dsn, creating the SQLite file's directory or the MySQL
// database when missing, and applies the scope's migrations.
func open(ctx context.Context, dsn, scope string, list []migration, log *slog.Logger) (*base, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	driver, source, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	var d *dialect
	var dbName string
	switch driver {
	case "sqlite":
		d = sqliteDialect
		path, _ := sqlitePath(dsn)
		dbName = path
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("store: create database directory: %w", err)
		}
		if err := createPrivate(path); err != nil {
			return nil, err
		}
	case "mysql":
		d = mysqlDialect
		cfg, _ := mysqlConfig(dsn)
		dbName = cfg.DBName
	}
	db, err := sql.Open(driver, source)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", driver, err)
	}
	if driver == "mysql" {
		db.SetMaxOpenConns(32)
		db.SetMaxIdleConns(8)
		db.SetConnMaxLifetime(5 * time.Minute)
	}
	if err := prepare(ctx, db, d, dsn, dbName, scope, list, log); err != nil {
		db.Close()
		return nil, err
	}
	log.Debug("store: opened", "scope", scope, "engine", driver, "dsn", RedactDSN(dsn))
	return &base{db: db, d: d, log: log}, nil
}

// createPrivate creates the SQLite file at path, readable by its owner
// only (0600), unless it exists: SQLite would create it with the umask's
// mode (usually 0644), and it holds password hashes and TOTP secrets. Its
// -wal and -shm files take the database file's mode.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: create database file: %w", err)
	}
	return f.Close()
}

// busyRetries bounds how often prepare retries while another process holds
// a new SQLite file's lock (switching it to WAL cannot wait for that lock).
const busyRetries = 50

// prepare connects, creating a missing MySQL database, and migrates.
func prepare(ctx context.Context, db *sql.DB, d *dialect, dsn, dbName, scope string, list []migration, log *slog.Logger) error {
	for attempt := 0; ; attempt++ {
		err := db.PingContext(ctx)
		if isUnknownDatabase(err) {
			// Create it only when missing: a restricted account may lack the
			// CREATE privilege that CREATE DATABASE IF NOT EXISTS checks first.
			cfg, _ := mysqlConfig(dsn)
			if err = createMySQLDatabase(ctx, cfg); err == nil {
				err = db.PingContext(ctx)
			}
		}
		if err != nil {
			err = fmt.Errorf("store: connect %s %s database: %w", d.name, scope, err)
		} else {
			err = migrate(ctx, db, d, dbName, scope, list, log)
		}
		if err == nil || d.classify(err) != errBusy || attempt >= busyRetries {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(10+attempt*10) * time.Millisecond):
		}
	}
}

// isUnknownDatabase reports MySQL's "Unknown database" error (1049).
func isUnknownDatabase(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1049
}

// createMySQLDatabase creates cfg's database if it does not exist, through a
// connection that names no database.
func createMySQLDatabase(ctx context.Context, cfg *mysql.Config) error {
	server := cfg.Clone()
	server.DBName = ""
	conn, err := mysql.NewConnector(server)
	if err != nil {
		return fmt.Errorf("store: mysql: %w", err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	q := "CREATE DATABASE IF NOT EXISTS " + quoteIdent(cfg.DBName) + " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
	if _, err := db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("store: create mysql database %s: %w", cfg.DBName, err)
	}
	return nil
}

// The implementations satisfy the contracts.
var (
	_ Directory = (*directory)(nil)
	_ Zone      = (*zone)(nil)
)
