package events

import (
	"context"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/store"
)

// Listing bounds: the default page and the largest.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
	// MaxTypes bounds the types one filter names.
	MaxTypes = 32
)

// Filter selects events; zero fields do not filter.
type Filter struct {
	CameraID string
	OrgID    string
	Types    []string
	// From and To bound the events' start: From <= start < To.
	From, To time.Time
	// Limit is the page size (DefaultLimit when 0, at most MaxLimit).
	Limit int
}

// Page is one page of a listing, newest first; Next continues it ("" at
// the end).
type Page struct {
	Events []Event
	Next   string
}

// check validates f's bounds.
func (f Filter) check() error {
	if f.Limit < 0 || f.Limit > MaxLimit {
		return invalid("limit must be 1 to %d", MaxLimit)
	}
	if len(f.Types) > MaxTypes {
		return invalid("at most %d types", MaxTypes)
	}
	for _, t := range f.Types {
		if !ValidType(t) {
			return invalid("unknown event type %q", t)
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		return invalid("to must be after from")
	}
	return nil
}

// visible says which cameras of which organisations p may see events of:
// the cameras of the organisations it is in (or f.OrgID of them) that
// authz lets it view, by zone.
func (s *Service) visible(ctx context.Context, p *authz.Principal, orgID, cameraID string) (map[string][]store.Camera, []string, error) {
	orgs := p.Orgs()
	if orgID != "" {
		if !slices.Contains(orgs, orgID) {
			return nil, nil, nil
		}
		orgs = []string{orgID}
	}
	if len(orgs) == 0 {
		return nil, nil, nil
	}
	cams, err := s.c.Dir.ListCameras(ctx, orgs)
	if err != nil {
		return nil, nil, err
	}
	byZone := map[string][]store.Camera{}
	for _, c := range cams {
		if cameraID != "" && c.ID != cameraID || authz.Camera(p, c, authz.PermView) != nil {
			continue
		}
		byZone[c.Zone] = append(byZone[c.Zone], c)
	}
	return byZone, orgs, nil
}

// List returns a page of the events p may see that match f, newest first,
// continuing after cursor (a Page.Next; "" for the first page): events of
// the cameras of p's organisations that authz lets p view. Another
// organisation's camera or organisation in f yields nothing, not an
// error. *InputError for a bad filter or cursor.
func (s *Service) List(ctx context.Context, p *authz.Principal, f Filter, cursor string) (Page, error) {
	if err := f.check(); err != nil {
		return Page{}, err
	}
	after, err := parseCursor(cursor)
	if err != nil {
		return Page{}, err
	}
	limit := f.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	byZone, orgs, err := s.visible(ctx, p, f.OrgID, f.CameraID)
	if err != nil {
		return Page{}, err
	}
	var all []Event
	for zn, cams := range byZone {
		db, err := s.zoneDB(zn)
		if err != nil {
			s.log.Warn("events: zone not served here", "zone", zn, "err", err)
			continue
		}
		ok := make(map[string]bool, len(cams))
		for _, c := range cams {
			ok[c.ID] = true
		}
		sf := store.EventFilter{CameraID: f.CameraID, OrgIDs: orgs, Types: f.Types, From: f.From, To: f.To, After: after, Limit: limit}
		// Rows of cameras p may not view are skipped: read on until the
		// page is full or the zone has no more.
		var got []Event
		for len(got) < limit {
			rows, err := db.ListEvents(ctx, sf)
			if err != nil {
				return Page{}, err
			}
			for _, r := range rows {
				if ok[r.CameraID] {
					got = append(got, fromRow(zn, r))
				}
			}
			if len(rows) < sf.Limit {
				break
			}
			last := rows[len(rows)-1]
			sf.After = &last
		}
		all = append(all, got...)
	}
	slices.SortFunc(all, newestFirst)
	page := Page{Events: all}
	if len(all) > limit {
		page.Events = all[:limit]
	}
	if len(page.Events) == limit {
		page.Next = makeCursor(page.Events[limit-1])
	}
	return page, nil
}

// newestFirst orders events by start, then id, both descending: the
// order of listings and their cursors.
func newestFirst(a, b Event) int {
	if c := b.Start.Compare(a.Start); c != 0 {
		return c
	}
	return strings.Compare(b.ID, a.ID)
}

// makeCursor is the cursor that continues a listing after e.
func makeCursor(e Event) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(e.Start.UnixMicro(), 10) + "." + e.ID))
}

// parseCursor reads makeCursor's form; nil for "".
func parseCursor(c string) (*store.Event, error) {
	if c == "" {
		return nil, nil
	}
	if len(c) > 200 {
		return nil, invalid("malformed cursor")
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, invalid("malformed cursor")
	}
	us, id, ok := strings.Cut(string(b), ".")
	n, err := strconv.ParseInt(us, 10, 64)
	if !ok || err != nil || n <= 0 || len(id) == 0 || len(id) > 64 {
		return nil, invalid("malformed cursor")
	}
	return &store.Event{Start: time.UnixMicro(n).UTC(), ID: id}, nil
}
