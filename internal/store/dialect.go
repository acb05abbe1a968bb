package store

import (
	"errors"
	"strings"

	"github.com/go-sql-driver/mysql"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect holds the little that differs between SQLite and MySQL; every query
// and all repository logic is shared and written once.
type dialect struct {
	name string // "sqlite" or "mysql"
	// types maps the schema's abstract column types to this engine's DDL.
	types map[colType]string
	// tableSuffix ends CREATE TABLE (engine, charset, STRICT...); withoutRowID
	// is the SQLite clause for tables clustered on their primary key.
	tableSuffix  string
	withoutRowID string
	// inlineIndexes declares indexes inside CREATE TABLE (MySQL) instead of
	// separate CREATE INDEX IF NOT EXISTS statements (SQLite).
	inlineIndexes bool
	// distinctCameras lists the distinct camera ids of the segments table
	// without scanning it.
	distinctCameras string
	// forUpdate ends a SELECT that must lock the rows it reads until the
	// transaction ends (MySQL); SQLite needs none, its transactions begin
	// IMMEDIATE (see sqlitePragmas) and so run one at a time.
	forUpdate string
	// classify tells what a driver error means for callers.
	classify func(error) errKind
}

// errKind is what a driver error means to the repository's callers.
type errKind int

const (
	errOther      errKind = iota
	errDuplicate          // a unique or primary key constraint: ErrConflict
	errMissingRef         // a foreign key points at no row: ErrNotFound
	errBusy               // SQLite's lock is held by another connection
)

var sqliteDialect = &dialect{
	name: "sqlite",
	types: map[colType]string{
		tID: "TEXT", tKey: "TEXT", tText: "TEXT", tBlob: "BLOB",
		tBigInt: "INTEGER", tInt: "INTEGER", tBool: "INTEGER",
	},
	tableSuffix:  " STRICT",
	withoutRowID: ", WITHOUT ROWID",
	// A skip scan: one index seek per camera instead of reading every row.
	distinctCameras: `WITH RECURSIVE c(id) AS (
  SELECT MIN(camera_id) FROM segments
  UNION ALL
  SELECT (SELECT MIN(camera_id) FROM segments WHERE camera_id > c.id) FROM c WHERE c.id IS NOT NULL
) SELECT id FROM c WHERE id IS NOT NULL`,
	classify: func(err error) errKind {
		var se *sqlite.Error
		if !errors.As(err, &se) {
			return errOther
		}
		if se.Code()&0xff == sqlite3.SQLITE_BUSY {
			return errBusy
		}
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return errDuplicate
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return errMissingRef
		}
		return errOther
	},
}

var mysqlDialect = &dialect{
	name: "mysql",
	types: map[colType]string{
		tID: "VARCHAR(64)", tKey: "VARCHAR(320)", tText: "TEXT", tBlob: "LONGBLOB",
		tBigInt: "BIGINT", tInt: "INT", tBool: "BOOLEAN",
	},
	// Binary collation: ids and keys compare byte for byte, as in SQLite.
	tableSuffix:   " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
	inlineIndexes: true,
	forUpdate:     " FOR UPDATE",
	// MySQL and MariaDB answer this with a loose index scan on the primary key.
	distinctCameras: `SELECT DISTINCT camera_id FROM segments ORDER BY camera_id`,
	classify: func(err error) errKind {
		var me *mysql.MySQLError
		if !errors.As(err, &me) {
			return errOther
		}
		switch me.Number {
		case 1062, 1586: // ER_DUP_ENTRY, ER_DUP_ENTRY_WITH_KEY_NAME
			return errDuplicate
		case 1452: // ER_NO_REFERENCED_ROW_2
			return errMissingRef
		}
		return errOther
	},
}

// upsert returns an INSERT of cols into table that updates the update columns
// when a row with the same key columns already exists.
func (d *dialect) upsert(table string, key, cols, update []string) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" + placeholders(len(cols)) + ")")
	if d.name == "sqlite" {
		b.WriteString(" ON CONFLICT (" + strings.Join(key, ", ") + ") DO UPDATE SET ")
		for i, c := range update {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c + " = excluded." + c)
		}
		return b.String()
	}
	b.WriteString(" ON DUPLICATE KEY UPDATE ")
	for i, c := range update {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c + " = VALUES(" + c + ")")
	}
	return b.String()
}

// upsertAdd returns an INSERT of cols into table that adds the values of
// the add columns to the row with the same key columns when it exists.
func (d *dialect) upsertAdd(table string, key, cols, add []string) string {
	sets := make([]string, len(add))
	for i, c := range add {
		sets[i] = c + " = " + table + "." + c + " + " + d.excluded(c)
	}
	return "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" + placeholders(len(cols)) + ")" +
		d.onConflictSet(key, strings.Join(sets, ", "))
}

// excluded names the value an upsert tried to insert into column c.
func (d *dialect) excluded(c string) string {
	if d.name == "sqlite" {
		return "excluded." + c
	}
	return "VALUES(" + c + ")"
}

// onConflictSet is the clause of an upsert on key that applies set.
func (d *dialect) onConflictSet(key []string, set string) string {
	if d.name == "sqlite" {
		return " ON CONFLICT (" + strings.Join(key, ", ") + ") DO UPDATE SET " + set
	}
	return " ON DUPLICATE KEY UPDATE " + set
}

// placeholders returns n comma-separated question marks.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}
