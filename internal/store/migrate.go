package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// migration is one versioned schema change. Versions only grow; a released
// migration is never edited, a new one is appended instead.
type migration struct {
	version int
	name    string
	tables  []table             // created on every engine
	sql     map[string][]string // further statements, by dialect name
}

// migrationsTable records applied migrations per scope ("directory", "zone"),
// so both schemas may even share one database.
var migrationsTable = table{
	name: "schema_migrations",
	cols: []column{
		{name: "scope", typ: tID},
		{name: "version", typ: tInt},
		{name: "name", typ: tKey},
		{name: "applied_us", typ: tBigInt},
	},
	pk: []string{"scope", "version"},
}

// execer is what migrations run on: a transaction (SQLite) or one
// connection holding a named lock (MySQL).
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// migrationLockWait bounds how long an opening process waits for another
// one that is migrating the same database.
const migrationLockWait = 120 * time.Second

// migrate applies the migrations of list not yet recorded for scope. Two
// processes opening the same database at once are serialised: SQLite by an
// immediate (write-locking) transaction, MySQL by GET_LOCK, since its DDL
// cannot run inside a transaction.
func migrate(ctx context.Context, db *sql.DB, d *dialect, dbName, scope string, list []migration, log *slog.Logger) error {
	ex, done, err := d.lockMigrations(ctx, db, dbName)
	if err != nil {
		return err
	}
	err = applyMigrations(ctx, ex, d, scope, list, log)
	if derr := done(err == nil); err == nil {
		err = derr
	}
	return err
}

// lockMigrations returns an execer that excludes other migrating processes
// until done is called; done commits (SQLite) when ok is true.
func (d *dialect) lockMigrations(ctx context.Context, db *sql.DB, dbName string) (execer, func(ok bool) error, error) {
	if d.name == "sqlite" {
		// The DSN sets _txlock=immediate: BEGIN takes the write lock, and
		// SQLite's DDL is transactional, so a failed migration leaves nothing.
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("store: begin migration: %w", err)
		}
		return tx, func(ok bool) error {
			if !ok {
				return tx.Rollback()
			}
			return tx.Commit()
		}, nil
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("store: migration connection: %w", err)
	}
	sum := sha256.Sum256([]byte(dbName))
	name := "camcloud_migrate_" + hex.EncodeToString(sum[:8])
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, ?)", name, int(migrationLockWait.Seconds())).Scan(&got); err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("store: migration lock: %w", err)
	}
	if !got.Valid || got.Int64 != 1 {
		conn.Close()
		return nil, nil, fmt.Errorf("store: migration lock %s not obtained within %s", name, migrationLockWait)
	}
	return conn, func(bool) error {
		// Release with a fresh context: the caller's may be done already.
		rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, rerr := conn.ExecContext(rctx, "DO RELEASE_LOCK(?)", name)
		cerr := conn.Close()
		return errors.Join(rerr, cerr)
	}, nil
}

// applyMigrations runs, in version order, each migration of list that scope
// has not recorded, recording each one after it succeeds.
func applyMigrations(ctx context.Context, ex execer, d *dialect, scope string, list []migration, log *slog.Logger) error {
	for _, s := range d.createTable(migrationsTable) {
		if _, err := ex.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("store: create schema_migrations: %w", err)
		}
	}
	applied := map[int]bool{}
	rows, err := ex.QueryContext(ctx, "SELECT version FROM schema_migrations WHERE scope = ?", scope)
	if err != nil {
		return fmt.Errorf("store: read schema_migrations: %w", err)
	}
	newest := 0
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("store: read schema_migrations: %w", err)
		}
		applied[v] = true
		newest = max(newest, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: read schema_migrations: %w", err)
	}
	known := 0
	for _, m := range list {
		known = max(known, m.version)
		if applied[m.version] {
			continue
		}
		var stmts []string
		for _, t := range m.tables {
			stmts = append(stmts, d.createTable(t)...)
		}
		stmts = append(stmts, m.sql[d.name]...)
		for _, s := range stmts {
			if _, err := ex.ExecContext(ctx, s); err != nil {
				return fmt.Errorf("store: %s migration %d (%s): %w", scope, m.version, m.name, err)
			}
		}
		if _, err := ex.ExecContext(ctx, "INSERT INTO schema_migrations (scope, version, name, applied_us) VALUES (?, ?, ?, ?)",
			scope, m.version, m.name, toMicros(time.Now())); err != nil {
			return fmt.Errorf("store: record %s migration %d: %w", scope, m.version, err)
		}
		log.Info("store: applied migration", "scope", scope, "version", m.version, "name", m.name, "engine", d.name)
	}
	if newest > known {
		// A newer binary migrated this database (rolling deploy): go on, since
		// migrations only add, but say so.
		log.Warn("store: database schema is newer than this binary", "scope", scope, "database_version", newest, "known_version", known)
	}
	return nil
}
