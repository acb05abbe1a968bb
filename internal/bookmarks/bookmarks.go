// Package bookmarks is the bookmark service: named, timed notes on a
// camera's timeline (a moment or a range), kept in the camera's zone DB,
// listed by range and searched by text, for whoever may play the camera
// back, written by those authz.WriteBookmark lets. Export manifests list
// the bookmarks of their range (package exports reads them).
package bookmarks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/names"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/zone"
)

// Bounds of bookmarks and their queries.
const (
	MaxName  = 200 // characters
	MaxNote  = store.MaxBookmarkNote
	MaxRange = 31 * 24 * time.Hour // of a ranged bookmark, and of a listing
	MaxQuery = 200                 // bytes of a text search
	MaxList  = 1000
)

// InputError is a refused bookmark or query: the API answers 400.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func invalid(format string, a ...any) error { return &InputError{Msg: fmt.Sprintf(format, a...)} }

// Service creates, lists and deletes bookmarks.
type Service struct {
	zones *zone.Registry
	now   func() time.Time
}

// New returns the service over the zones' databases; now is the clock
// (time.Now when nil).
func New(zones *zone.Registry, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{zones: zones, now: now}
}

// Input is a bookmark to create; End zero: a moment.
type Input struct {
	Name, Note string
	Start, End time.Time
}

// Create stores a bookmark of cam by p (email names them in it).
func (s *Service) Create(ctx context.Context, p *authz.Principal, cam store.Camera, in Input, email string) (store.Bookmark, error) {
	if err := authz.WriteBookmark(p, cam); err != nil {
		return store.Bookmark{}, err
	}
	name, err := names.Check("name", in.Name, MaxName)
	if err != nil {
		return store.Bookmark{}, &InputError{Msg: err.Error()}
	}
	note := strings.TrimSpace(in.Note)
	if len(note) > MaxNote || !utf8.ValidString(note) {
		return store.Bookmark{}, invalid("note must be UTF-8 text of at most %d bytes", MaxNote)
	}
	for _, r := range note {
		if r != '\n' && r != '\t' && !names.Printable(r) {
			return store.Bookmark{}, invalid("note must not contain control or bidirectional formatting characters (U+%04X)", r)
		}
	}
	now := s.now().UTC()
	start, end := in.Start.UTC().Truncate(time.Microsecond), in.End.UTC().Truncate(time.Microsecond)
	switch {
	case start.IsZero():
		return store.Bookmark{}, invalid("start is required (RFC 3339)")
	case start.After(now.Add(time.Hour)):
		return store.Bookmark{}, invalid("start is in the future")
	case !in.End.IsZero() && !end.After(start):
		return store.Bookmark{}, invalid("end must be after start")
	case !in.End.IsZero() && end.Sub(start) > MaxRange:
		return store.Bookmark{}, invalid("a bookmark may cover at most %s", MaxRange)
	}
	db, err := s.db(cam)
	if err != nil {
		return store.Bookmark{}, err
	}
	b := store.Bookmark{ID: newID(), CameraID: cam.ID, OrgID: cam.OrgID, Start: start, End: end, Name: name, Note: note,
		CreatedEmail: email, CreatedAt: now}
	if p != nil {
		b.CreatedBy = p.UserID
	}
	if err := db.AddBookmark(ctx, b); err != nil {
		return store.Bookmark{}, err
	}
	return b, nil
}

// Query selects bookmarks: overlapping [From, To], holding Q in name or
// note (case-insensitive; "" any), at most Limit (default 200, at most
// MaxList).
type Query struct {
	From, To time.Time
	Q        string
	Limit    int
}

// List returns cam's bookmarks matching q, by start.
func (s *Service) List(ctx context.Context, p *authz.Principal, cam store.Camera, q Query) ([]store.Bookmark, error) {
	if err := authz.ReadBookmarks(p, cam); err != nil {
		return nil, err
	}
	switch {
	case !q.To.After(q.From):
		return nil, invalid("to must be after from")
	case q.To.Sub(q.From) > MaxRange:
		return nil, invalid("a listing may cover at most %s", MaxRange)
	case len(q.Q) > MaxQuery:
		return nil, invalid("q may be at most %d bytes", MaxQuery)
	case q.Limit < 0 || q.Limit > MaxList:
		return nil, invalid("limit must be 1..%d", MaxList)
	}
	db, err := s.db(cam)
	if err != nil {
		return nil, err
	}
	return db.ListBookmarks(ctx, cam.ID, q.From, q.To, strings.TrimSpace(q.Q), q.Limit)
}

// Delete deletes cam's bookmark id; store.ErrNotFound when it has none such.
func (s *Service) Delete(ctx context.Context, p *authz.Principal, cam store.Camera, id string) error {
	if err := authz.WriteBookmark(p, cam); err != nil {
		return err
	}
	db, err := s.db(cam)
	if err != nil {
		return err
	}
	return db.DeleteBookmark(ctx, cam.ID, id)
}

// db is the database of cam's zone.
func (s *Service) db(cam store.Camera) (store.Zone, error) {
	z, err := s.zones.Get(cam.Zone)
	if err != nil {
		return nil, err
	}
	return z.DB, nil
}

// newID returns a random 32-hex-character id.
func newID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err) // the system random source never fails on Linux
	}
	return hex.EncodeToString(b)
}
