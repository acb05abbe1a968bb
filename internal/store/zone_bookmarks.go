package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// Bookmark is a named, timed note on a camera's timeline: a moment
// (End zero) or a range.
type Bookmark struct {
	ID, CameraID, OrgID string
	Start, End          time.Time
	Name, Note          string
	CreatedBy           string
	CreatedEmail        string
	CreatedAt           time.Time
}

// Bookmark bounds the repository checks.
const (
	MaxBookmarkName      = 320
	MaxBookmarkNote      = 4000
	MaxBookmarksPerCam   = 10000
	maxBookmarkList      = 1000
	maxBookmarkQueryText = 200
)

// BookmarkStore keeps bookmarks (zone_bookmarks.go).
type BookmarkStore interface {
	// AddBookmark stores b; ErrLimit when its camera has
	// MaxBookmarksPerCam bookmarks already.
	AddBookmark(ctx context.Context, b Bookmark) error
	// ListBookmarks returns up to limit (at most 1000) bookmarks of a
	// camera overlapping [from, to] whose name or note holds q (case
	// insensitive; "" any), by start.
	ListBookmarks(ctx context.Context, cameraID string, from, to time.Time, q string, limit int) ([]Bookmark, error)
	// DeleteBookmark deletes a camera's bookmark id; ErrNotFound when
	// the camera has none such.
	DeleteBookmark(ctx context.Context, cameraID, id string) error
	// DeleteBookmarks deletes a camera's bookmarks that ended (or, for a
	// moment, were) before before, and returns how many: retention.
	DeleteBookmarks(ctx context.Context, cameraID string, before time.Time) (int, error)
	// BookmarkCameras lists the cameras that have any bookmark.
	BookmarkCameras(ctx context.Context) ([]string, error)
}

const bookmarkCols = "camera_id, start_us, id, org_id, end_us, name, note, created_by, created_email, created_us"

func scanBookmark(row interface{ Scan(...any) error }) (Bookmark, error) {
	var b Bookmark
	var start, end, created int64
	err := row.Scan(&b.CameraID, &start, &b.ID, &b.OrgID, &end, &b.Name, &b.Note, &b.CreatedBy, &b.CreatedEmail, &created)
	b.Start, b.End, b.CreatedAt = fromMicros(start), fromMicros(end), fromMicros(created)
	return b, err
}

// AddBookmark inserts b within its camera's bound.
func (r *zone) AddBookmark(ctx context.Context, b Bookmark) error {
	var c check
	c.id("bookmark id", b.ID)
	c.id("camera id", b.CameraID)
	c.id("org id", b.OrgID)
	c.str("bookmark name", b.Name, MaxBookmarkName, true)
	c.str("bookmark note", b.Note, MaxBookmarkNote, false)
	c.str("bookmark creator", b.CreatedBy, maxID, false)
	c.str("bookmark creator email", b.CreatedEmail, maxKey, false)
	c.ok(b.End.IsZero() || b.End.After(b.Start), "a bookmark ends after it starts")
	if c.err != nil {
		return c.err
	}
	return r.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM bookmarks WHERE camera_id = ?", b.CameraID).Scan(&n); err != nil {
			return err
		}
		if n >= MaxBookmarksPerCam {
			return ErrLimit
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO bookmarks ("+bookmarkCols+") VALUES ("+placeholders(10)+")",
			b.CameraID, toMicros(b.Start), b.ID, b.OrgID, toMicros(b.End), b.Name, b.Note, b.CreatedBy, b.CreatedEmail, toMicros(b.CreatedAt))
		return err
	})
}

// likeEscape makes q a LIKE pattern that matches it anywhere, with '!'
// as the escape character (portable: no backslash rules).
func likeEscape(q string) string {
	r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	return "%" + r.Replace(strings.ToLower(q)) + "%"
}

// ListBookmarks lists a camera's bookmarks overlapping [from, to].
func (r *zone) ListBookmarks(ctx context.Context, cameraID string, from, to time.Time, q string, limit int) ([]Bookmark, error) {
	if len(q) > maxBookmarkQueryText {
		q = q[:maxBookmarkQueryText]
	}
	var c conds
	c.add("camera_id = ?", cameraID)
	// A range overlaps when it starts by to and ends from on; a moment's
	// end is its start. Ranges are at most as long as a camera's
	// recordings are kept, so the start bound stays a range scan.
	c.add("start_us <= ?", toMicros(to))
	c.add("(start_us >= ? OR end_us >= ?)", toMicros(from), toMicros(from))
	if q != "" {
		p := likeEscape(q)
		c.add("(LOWER(name) LIKE ? ESCAPE '!' OR LOWER(note) LIKE ? ESCAPE '!')", p, p)
	}
	rows, err := r.db.QueryContext(ctx, "SELECT "+bookmarkCols+" FROM bookmarks"+c.where()+" ORDER BY start_us, id LIMIT ?",
		append(c.args, clampLimit(limit, 200, maxBookmarkList))...)
	if err != nil {
		return nil, r.mapErr(err)
	}
	return collect(rows, r.mapErr, func(rows *sql.Rows) (Bookmark, error) { return scanBookmark(rows) })
}

// DeleteBookmark deletes a camera's bookmark.
func (r *zone) DeleteBookmark(ctx context.Context, cameraID, id string) error {
	return r.execOne(ctx, "DELETE FROM bookmarks WHERE id = ? AND camera_id = ?", id, cameraID)
}

// DeleteBookmarks deletes a camera's bookmarks over before (at most
// MaxBookmarksPerCam rows: no batching needed).
func (r *zone) DeleteBookmarks(ctx context.Context, cameraID string, before time.Time) (int, error) {
	b := toMicros(before)
	res, err := r.exec(ctx, "DELETE FROM bookmarks WHERE camera_id = ? AND start_us < ? AND end_us < ?", cameraID, b, b)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), r.mapErr(err)
}

// BookmarkCameras lists the cameras that have any bookmark, by id.
func (r *zone) BookmarkCameras(ctx context.Context) ([]string, error) {
	return r.cameraIDs(ctx, "bookmarks")
}
