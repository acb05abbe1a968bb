package store

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// sqlitePragmas configure every SQLite connection: WAL so readers never
// block the writer, a busy timeout instead of immediate SQLITE_BUSY errors,
// foreign keys, NORMAL sync (durable at checkpoints, safe with WAL), and
// write transactions that take the write lock at BEGIN, so two writers
// wait for each other instead of failing to upgrade a read lock.
const sqlitePragmas = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"

// mysqlDBName is what CREATE DATABASE accepts from a DSN without quoting
// trouble.
var mysqlDBName = regexp.MustCompile(`^[A-Za-z0-9_$-]{1,64}$`)

// ParseDSN turns a camcloud DSN into a database/sql driver name and data
// source. Two forms exist:
//
//	sqlite:/path/to/file.db                     (modernc.org/sqlite, "sqlite")
//	mysql://user:pass@tcp(host:port)/db?params  (go-sql-driver/mysql, "mysql")
//
// Errors never repeat the DSN, which may hold a password.
func ParseDSN(dsn string) (driver, source string, err error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path, err := sqlitePath(dsn)
		if err != nil {
			return "", "", err
		}
		return "sqlite", path + "?" + sqlitePragmas, nil
	case strings.HasPrefix(dsn, "mysql://"):
		cfg, err := mysqlConfig(dsn)
		if err != nil {
			return "", "", err
		}
		return "mysql", cfg.FormatDSN(), nil
	}
	return "", "", errors.New("store: DSN must start with sqlite: or mysql://")
}

// sqlitePath returns the file path of a sqlite: DSN. "sqlite:///abs" and
// "sqlite:/abs" name the same file.
func sqlitePath(dsn string) (string, error) {
	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//")
	switch {
	case path == "":
		return "", errors.New("store: sqlite DSN has no file path")
	case strings.ContainsAny(path, "?#\x00"):
		return "", errors.New("store: sqlite file path may not contain '?', '#' or NUL")
	case strings.HasPrefix(path, "file:") || path == ":memory:":
		return "", errors.New("store: sqlite DSN must name a plain file path")
	}
	return path, nil
}

// mysqlConfig parses a mysql:// DSN and sets what the repository relies on.
func mysqlConfig(dsn string) (*mysql.Config, error) {
	cfg, err := mysql.ParseDSN(strings.TrimPrefix(dsn, "mysql://"))
	if err != nil {
		// The driver's messages do not echo the password, but be sure.
		return nil, errors.New("store: invalid mysql DSN (want mysql://user:pass@tcp(host:port)/dbname?params)")
	}
	if cfg.DBName == "" {
		return nil, errors.New("store: mysql DSN has no database name")
	}
	if !mysqlDBName.MatchString(cfg.DBName) {
		return nil, fmt.Errorf("store: mysql database name %q: use letters, digits, '_', '-' or '$', at most 64", cfg.DBName)
	}
	cfg.ParseTime = true
	cfg.MultiStatements = false
	// RowsAffected counts matched rows, as SQLite does, so an UPDATE that
	// changes nothing still proves the row exists.
	cfg.ClientFoundRows = true
	cfg.Loc = time.UTC
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	return cfg, nil
}

// RedactDSN returns dsn with any password replaced, for logs.
func RedactDSN(dsn string) string {
	if !strings.HasPrefix(dsn, "mysql://") {
		return dsn
	}
	cfg, err := mysql.ParseDSN(strings.TrimPrefix(dsn, "mysql://"))
	if err != nil {
		return "mysql://(invalid)"
	}
	if cfg.Passwd != "" {
		cfg.Passwd = "xxxxx"
	}
	return "mysql://" + cfg.FormatDSN()
}

// quoteIdent quotes a MySQL identifier already checked by mysqlDBName.
func quoteIdent(name string) string { return "`" + strings.ReplaceAll(name, "`", "``") + "`" }
