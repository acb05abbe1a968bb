package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ColumnKind is how the data export stores a column's values.
type ColumnKind int

// The kinds of column the schemas use.
const (
	KindInt   ColumnKind = iota // any integer or boolean: int64
	KindText                    // text: UTF-8 string
	KindBytes                   // binary
)

// ColumnInfo is one column of a table as the database reports it.
type ColumnInfo struct {
	Name     string
	Kind     ColumnKind
	Nullable bool
}

// TableInfo is one table as the database reports it, columns in order.
type TableInfo struct {
	Name    string
	Columns []ColumnInfo
}

// Range selects the rows whose integer column Col is in (After, UpTo]: how
// an incremental export reads only what was appended since its watermark.
// The zero Range selects every row.
type Range struct {
	Col   string
	After int64
	UpTo  int64
}

// Snapshot is a consistent, read-only view of one database, for the data
// export: every read through it sees the database as it was at At, while
// writers go on. On MySQL it is a transaction started WITH CONSISTENT
// SNAPSHOT on one connection; on SQLite a deferred read transaction (WAL
// keeps its view while others write). Reads through one Snapshot run one
// at a time. Close it.
type Snapshot struct {
	// At is when the snapshot was taken (just after it was opened).
	At time.Time
	// Engine is "sqlite" or "mysql".
	Engine string

	conn *sql.Conn
	d    *dialect
}

// Snapshotter is a repository that can open a Snapshot of its database:
// every Directory and Zone this package opens is one.
type Snapshotter interface {
	BeginSnapshot(ctx context.Context) (*Snapshot, error)
}

// BeginSnapshot opens a consistent read-only view of the database.
func (b *base) BeginSnapshot(ctx context.Context) (*Snapshot, error) {
	conn, err := b.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: snapshot connection: %w", err)
	}
	var stmts []string
	if b.d.name == "sqlite" {
		// DEFERRED takes no write lock; the first read fixes the view.
		stmts = []string{"BEGIN DEFERRED", "SELECT COUNT(*) FROM sqlite_schema"}
	} else {
		stmts = []string{"SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"}
	}
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			conn.Close()
			return nil, fmt.Errorf("store: begin snapshot (%s): %w", s, err)
		}
	}
	return &Snapshot{At: time.Now(), Engine: b.d.name, conn: conn, d: b.d}, nil
}

// Close ends the snapshot's transaction and returns its connection.
func (s *Snapshot) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, rerr := s.conn.ExecContext(ctx, "ROLLBACK")
	return errors.Join(rerr, s.conn.Close())
}

// Tables lists the tables of the database with their columns, by name.
func (s *Snapshot) Tables(ctx context.Context) ([]TableInfo, error) {
	var q string
	if s.d.name == "sqlite" {
		q = `SELECT t.name, c.name, c.type, c."notnull" = 0 FROM sqlite_schema t, pragma_table_info(t.name) c
  WHERE t.type = 'table' AND t.name NOT LIKE 'sqlite_%' ORDER BY t.name, c.cid`
	} else {
		q = `SELECT table_name, column_name, data_type, is_nullable = 'YES' FROM information_schema.columns
  WHERE table_schema = DATABASE() ORDER BY table_name, ordinal_position`
	}
	rows, err := s.conn.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("store: list tables: %w", err)
	}
	defer rows.Close()
	var out []TableInfo
	for rows.Next() {
		var tname, cname, typ string
		var null bool
		if err := rows.Scan(&tname, &cname, &typ, &null); err != nil {
			return nil, fmt.Errorf("store: list tables: %w", err)
		}
		kind, err := kindOf(typ)
		if err != nil {
			return nil, fmt.Errorf("store: table %s column %s: %w", tname, cname, err)
		}
		if len(out) == 0 || out[len(out)-1].Name != tname {
			out = append(out, TableInfo{Name: tname})
		}
		t := &out[len(out)-1]
		t.Columns = append(t.Columns, ColumnInfo{Name: cname, Kind: kind, Nullable: null})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list tables: %w", err)
	}
	return out, nil
}

// kindOf maps a column type as either engine reports it to a ColumnKind.
func kindOf(typ string) (ColumnKind, error) {
	t := strings.ToLower(typ)
	switch {
	case strings.Contains(t, "int") || t == "boolean" || t == "bool":
		return KindInt, nil
	case strings.Contains(t, "char") || strings.Contains(t, "text"):
		return KindText, nil
	case strings.Contains(t, "blob") || strings.Contains(t, "binary"):
		return KindBytes, nil
	}
	return 0, fmt.Errorf("column type %q is not one the export knows", typ)
}

// quoteIdent quotes a table or column name; names with anything but
// lower-case letters, digits and underscores are refused (the schemas use
// no others), so a name can never break out of its quotes.
func (s *Snapshot) quoteIdent(name string) (string, error) {
	if name == "" || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
		return "", fmt.Errorf("store: identifier %q is not a plain name", name)
	}
	if s.d.name == "mysql" {
		return "`" + name + "`", nil
	}
	return `"` + name + `"`, nil
}

// selectFrom renders "SELECT cols FROM table [WHERE range]" and its
// arguments.
func (s *Snapshot) selectFrom(what string, table string, r Range) (string, []any, error) {
	qt, err := s.quoteIdent(table)
	if err != nil {
		return "", nil, err
	}
	q := "SELECT " + what + " FROM " + qt
	if r.Col == "" {
		return q, nil, nil
	}
	qc, err := s.quoteIdent(r.Col)
	if err != nil {
		return "", nil, err
	}
	return q + " WHERE " + qc + " > ? AND " + qc + " <= ?", []any{r.After, r.UpTo}, nil
}

// Count returns how many rows of table r selects.
func (s *Snapshot) Count(ctx context.Context, table string, r Range) (int64, error) {
	q, args, err := s.selectFrom("COUNT(*)", table, r)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := s.conn.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count %s: %w", table, err)
	}
	return n, nil
}

// Max returns the largest value of the integer column col of table (0 when
// the table is empty): the watermark an incremental export reads up to.
func (s *Snapshot) Max(ctx context.Context, table, col string) (int64, error) {
	qc, err := s.quoteIdent(col)
	if err != nil {
		return 0, err
	}
	q, args, err := s.selectFrom("MAX("+qc+")", table, Range{})
	if err != nil {
		return 0, err
	}
	var n sql.NullInt64
	if err := s.conn.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: max %s.%s: %w", table, col, err)
	}
	return n.Int64, nil
}

// Scan streams the rows of table that r selects, with the columns cols (as
// Tables reported them), to fn, one row at a time and in no particular
// order; nothing is held beyond the row. fn gets one value per column: an
// int64, a []byte for text and binary (valid only during the call), or nil
// for NULL.
func (s *Snapshot) Scan(ctx context.Context, table string, cols []ColumnInfo, r Range, fn func(row []any) error) error {
	names := make([]string, len(cols))
	for i, c := range cols {
		q, err := s.quoteIdent(c.Name)
		if err != nil {
			return err
		}
		names[i] = q
	}
	q, args, err := s.selectFrom(strings.Join(names, ", "), table, r)
	if err != nil {
		return err
	}
	rows, err := s.conn.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("store: scan %s: %w", table, err)
	}
	defer rows.Close()
	ints := make([]sql.NullInt64, len(cols))
	raws := make([]sql.RawBytes, len(cols))
	dest := make([]any, len(cols))
	for i, c := range cols {
		if c.Kind == KindInt {
			dest[i] = &ints[i]
		} else {
			dest[i] = &raws[i]
		}
	}
	row := make([]any, len(cols))
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("store: scan %s: %w", table, err)
		}
		for i, c := range cols {
			switch {
			case c.Kind == KindInt && ints[i].Valid:
				row[i] = ints[i].Int64
			case c.Kind != KindInt && (raws[i] != nil || !c.Nullable):
				row[i] = []byte(raws[i])
			default:
				row[i] = nil
			}
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: scan %s: %w", table, err)
	}
	return nil
}

// JobLocker is a repository that can hold a named lock across processes
// sharing its database: how api nodes make sure one of them runs a job
// (the data export) at a time.
type JobLocker interface {
	TryJobLock(ctx context.Context, name string) (unlock func(), ok bool, err error)
}

// TryJobLock takes the lock name without waiting; ok is false when another
// session holds it. On MySQL it is GET_LOCK on a connection of its own,
// named per database, released by unlock or when the connection ends (a
// dead process loses it). On SQLite, whose file one process uses, it is
// always granted.
func (b *base) TryJobLock(ctx context.Context, name string) (func(), bool, error) {
	if b.d.name == "sqlite" {
		return func() {}, true, nil
	}
	conn, err := b.db.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("store: job lock connection: %w", err)
	}
	var db string
	if err := conn.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&db); err != nil {
		conn.Close()
		return nil, false, fmt.Errorf("store: job lock: %w", err)
	}
	sum := sha256.Sum256([]byte(db + "\x00" + name))
	lock := "camcloud_job_" + hex.EncodeToString(sum[:8])
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 0)", lock).Scan(&got); err != nil {
		conn.Close()
		return nil, false, fmt.Errorf("store: job lock: %w", err)
	}
	if !got.Valid || got.Int64 != 1 {
		conn.Close()
		return nil, false, nil
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = conn.ExecContext(ctx, "DO RELEASE_LOCK(?)", lock)
		_ = conn.Close()
	}, true, nil
}
