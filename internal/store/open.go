package store

import (
	"context"
	"database/sql"
	"fmt"
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
	case "mysql":
		d = mysqlDialect
		cfg, _ := mysqlConfig(dsn)
		dbName = cfg.DBName
		if err := createMySQLDatabase(ctx, cfg); err != nil {
			return nil, err
		}
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
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect %s %s database: %w", driver, scope, err)
	}
	if err := migrate(ctx, db, d, dbName, scope, list, log); err != nil {
		db.Close()
		return nil, err
	}
	log.Debug("store: opened", "scope", scope, "engine", driver, "dsn", RedactDSN(dsn))
	return &base{db: db, d: d, log: log}, nil
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
