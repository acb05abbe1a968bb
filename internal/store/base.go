package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"
)

// base is what the directory and zone repositories share: the pool, the
// dialect and the logger.
type base struct {
	db  *sql.DB
	d   *dialect
	log *slog.Logger
}

// Ping checks that the database answers.
func (b *base) Ping(ctx context.Context) error { return b.db.PingContext(ctx) }

// Close closes the connection pool.
func (b *base) Close() error { return b.db.Close() }

// exec runs a write and maps constraint errors to ErrConflict/ErrNotFound.
func (b *base) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := b.db.ExecContext(ctx, query, args...)
	if err != nil {
		return nil, b.mapErr(err)
	}
	return res, nil
}

// execOne runs a write that must touch a row, else it is ErrNotFound. Both
// drivers report matched rows (the MySQL DSN sets clientFoundRows).
func (b *base) execOne(ctx context.Context, query string, args ...any) error {
	res, err := b.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// mapErr turns driver errors into the package's sentinel errors.
func (b *base) mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return ErrNotFound
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrConflict):
		return err
	}
	switch b.d.classify(err) {
	case errDuplicate:
		return fmt.Errorf("%w: %w", ErrConflict, err)
	case errMissingRef:
		return fmt.Errorf("%w: referenced row does not exist: %w", ErrNotFound, err)
	}
	return fmt.Errorf("store: %w", err)
}

// toMicros encodes t as microseconds since the Unix epoch; the zero time is 0.
func toMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros decodes toMicros: 0 is the zero time, anything else is UTC.
func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// check collects the first invalid field of a value about to be written.
type check struct{ err error }

// str requires v to be valid UTF-8 of at most maxLen bytes, and non-empty
// when required.
func (c *check) str(field, v string, maxLen int, required bool) {
	switch {
	case c.err != nil:
	case required && v == "":
		c.err = fmt.Errorf("store: %s is empty", field)
	case len(v) > maxLen:
		c.err = fmt.Errorf("store: %s is longer than %d bytes", field, maxLen)
	case !utf8.ValidString(v):
		c.err = fmt.Errorf("store: %s is not valid UTF-8", field)
	}
}

// id requires a non-empty identifier.
func (c *check) id(field, v string) { c.str(field, v, maxID, true) }

// ok requires a condition, else records msg.
func (c *check) ok(cond bool, msg string) {
	if c.err == nil && !cond {
		c.err = errors.New("store: " + msg)
	}
}

// maxInList bounds the ids a caller may pass in one call.
const maxInList = 10000

// inList returns "?, ?, ..." and the args for ids, or an error if too many.
func inList(ids []string) (string, []any, error) {
	if len(ids) > maxInList {
		return "", nil, fmt.Errorf("store: %d ids in one call, at most %d", len(ids), maxInList)
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return placeholders(len(ids)), args, nil
}

// clampLimit returns def for limit <= 0 and never more than hard.
func clampLimit(limit, def, hard int) int {
	if limit <= 0 {
		return def
	}
	return min(limit, hard)
}

// isConflict reports whether err is (or wraps) ErrConflict.
func isConflict(err error) bool { return errors.Is(err, ErrConflict) }

// collect scans every row with scan, closes rows and maps errors.
func collect[T any](rows *sql.Rows, mapErr func(error) error, scan func(*sql.Rows) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, mapErr(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	return out, nil
}

// inTx runs fn in a transaction and commits when fn returns nil. On SQLite
// BEGIN takes the write lock (the DSN's _txlock=immediate), so transactions
// run one at a time; on MySQL fn locks what it reads with d.forUpdate.
func (b *base) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return b.mapErr(err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return b.mapErr(err)
	}
	return b.mapErr(tx.Commit())
}

// conds collects the conditions of a WHERE clause and their arguments.
type conds struct {
	parts []string
	args  []any
}

// add appends a condition with its arguments.
func (c *conds) add(cond string, args ...any) {
	c.parts, c.args = append(c.parts, cond), append(c.args, args...)
}

// in appends "col IN (vals)"; an error when there are too many values.
func (c *conds) in(col string, vals []string) error {
	ph, a, err := inList(vals)
	if err != nil {
		return err
	}
	c.add(col+" IN ("+ph+")", a...)
	return nil
}

// orgs appends "org_id IN (ids)" unless ids is nil (any organisation);
// false when ids is empty, which nothing matches.
func (c *conds) orgs(ids []string) (bool, error) {
	if ids == nil {
		return true, nil
	}
	if len(ids) == 0 {
		return false, nil
	}
	return true, c.in("org_id", ids)
}

// where is the clause, "" when there is no condition.
func (c *conds) where() string {
	if len(c.parts) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(c.parts, " AND ")
}

// cameraIDs lists the distinct camera ids of table (segments or events)
// without scanning it.
func (r *zone) cameraIDs(ctx context.Context, table string) ([]string, error) {
	rows, err := r.db.QueryContext(ctx, strings.ReplaceAll(r.d.distinctCameras, "segments", table))
	if err != nil {
		return nil, r.mapErr(err)
	}
	return collect(rows, r.mapErr, func(rows *sql.Rows) (string, error) {
		var id string
		err := rows.Scan(&id)
		return id, err
	})
}
