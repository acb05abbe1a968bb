package usage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/cameras"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/zone"
)

// MaxDays bounds the days of one report (a year, leap years included).
const MaxDays = 366

// Groupings of a report.
const (
	ByDay    = "day"
	ByCamera = "camera"
	ByLabel  = "label"
)

// Query is what a report covers: an organisation's days From to To
// (both included, UTC midnights) grouped by GroupBy (LabelKey for
// ByLabel).
type Query struct {
	OrgID    string
	From, To time.Time
	GroupBy  string
	LabelKey string
}

// Error is a query the reporter refuses (an API 400).
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// ParseQuery reads a report's parameters as the API takes them: from and
// to as days (2026-03-01) or RFC 3339 times (their UTC day), both
// included, by default the 30 days up to today; group_by "day" (the
// default), "camera" or "label:KEY".
func ParseQuery(org, from, to, groupBy string, now time.Time) (Query, error) {
	q := Query{OrgID: org, GroupBy: ByDay}
	var err error
	if q.To, err = parseDay("to", to, Day(now)); err != nil {
		return q, err
	}
	if q.From, err = parseDay("from", from, q.To.AddDate(0, 0, -29)); err != nil {
		return q, err
	}
	if q.To.Before(q.From) {
		return q, &Error{"to is before from"}
	}
	if days := int(q.To.Sub(q.From)/(24*time.Hour)) + 1; days > MaxDays {
		return q, &Error{fmt.Sprintf("a usage report covers at most %d days (a year), not %d: ask for a shorter range", MaxDays, days)}
	}
	switch key, isLabel := strings.CutPrefix(groupBy, ByLabel+":"); {
	case groupBy == "" || groupBy == ByDay:
	case groupBy == ByCamera:
		q.GroupBy = ByCamera
	case isLabel:
		k, err := cameras.ValidateLabelKey(key)
		if err != nil {
			return q, &Error{"group_by: " + err.Error()}
		}
		q.GroupBy, q.LabelKey = ByLabel, k
	default:
		return q, &Error{fmt.Sprintf("group_by must be day, camera or label:KEY, not %q", trunc(groupBy))}
	}
	return q, nil
}

func parseDay(name, v string, def time.Time) (time.Time, error) {
	if v == "" {
		return def, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return Day(t), nil
	}
	return time.Time{}, &Error{fmt.Sprintf("%s must be a day (2026-03-01) or an RFC 3339 time, not %q", name, trunc(v))}
}

func trunc(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// Row is the usage of one group: a day, a camera or a label value.
type Row struct {
	// Key is the day (2026-03-01), the camera id or the label's value (""
	// for cameras without the label, and deleted cameras).
	Key        string
	CameraName string // ByCamera: the camera's name now ("" once deleted)
	// StoredBytes is, for a day, what the group had stored that day; for
	// a camera or label, what it had stored on the last day of the range
	// that has a figure.
	StoredBytes int64
	// StoredByteDays sums each day's stored bytes (GB-days × 1e9).
	StoredByteDays int64
	Counts         store.UsageCounts
}

// Report is an organisation's usage over a range.
type Report struct {
	Query
	Rows  []Row
	Total Row
}

// Reporter reads usage for principals.
type Reporter struct {
	Dir   store.Directory
	Zones *zone.Registry
}

// Report returns q's report when p may read the organisation's usage
// (authz.ViewUsage). Every zone's rows of the organisation are read; a
// zone that cannot answer fails the report (usage is a bill: no partial
// sums).
func (r *Reporter) Report(ctx context.Context, p *authz.Principal, q Query) (Report, error) {
	if err := authz.ViewUsage(p, q.OrgID); err != nil {
		return Report{}, err
	}
	cams, err := r.Dir.ListCameras(ctx, []string{q.OrgID})
	if err != nil {
		return Report{}, err
	}
	byID := make(map[string]store.Camera, len(cams))
	for _, c := range cams {
		byID[c.ID] = c
	}
	rep := Report{Query: q}
	groups := map[string]*Row{}
	type last struct {
		day    time.Time
		stored int64
	}
	latest := map[string]map[string]last{} // group -> camera -> its last day
	keyOf := func(u store.UsageRow) string {
		switch q.GroupBy {
		case ByCamera:
			return u.CameraID
		case ByLabel:
			return byID[u.CameraID].Labels[q.LabelKey]
		}
		return u.Day.Format(time.DateOnly)
	}
	end := q.To.AddDate(0, 0, 1)
	for _, zn := range r.Zones.Names() {
		z, err := r.Zones.Get(zn)
		if err != nil {
			return Report{}, err
		}
		err = z.DB.ScanUsage(ctx, q.OrgID, q.From, end, func(u store.UsageRow) error {
			k := keyOf(u)
			g := groups[k]
			if g == nil {
				g = &Row{Key: k}
				if q.GroupBy == ByCamera {
					g.CameraName = byID[k].Name
				}
				groups[k] = g
				latest[k] = map[string]last{}
			}
			for i, v := range u.Counts {
				g.Counts[i] += v
			}
			g.StoredByteDays += u.StoredBytes
			if l, ok := latest[k][u.CameraID]; !ok || !u.Day.Before(l.day) {
				latest[k][u.CameraID] = last{u.Day, u.StoredBytes}
			}
			return nil
		})
		if err != nil {
			return Report{}, fmt.Errorf("usage of zone %s: %w", zn, err)
		}
	}
	totalLatest := map[string]last{}
	for k, g := range groups {
		for cam, l := range latest[k] {
			g.StoredBytes += l.stored
			if t, ok := totalLatest[cam]; !ok || !l.day.Before(t.day) {
				totalLatest[cam] = l
			}
		}
		rep.Rows = append(rep.Rows, *g)
		for i, v := range g.Counts {
			rep.Total.Counts[i] += v
		}
		rep.Total.StoredByteDays += g.StoredByteDays
	}
	if q.GroupBy == ByDay {
		// A day's stored bytes are that day's: the total's are the last day's.
		lastDay := ""
		for _, g := range rep.Rows {
			if g.Key > lastDay {
				lastDay, rep.Total.StoredBytes = g.Key, g.StoredBytes
			}
		}
	} else {
		for _, l := range totalLatest {
			rep.Total.StoredBytes += l.stored
		}
	}
	slices.SortFunc(rep.Rows, func(a, b Row) int { return cmp.Or(cmp.Compare(a.CameraName, b.CameraName), cmp.Compare(a.Key, b.Key)) })
	return rep, nil
}

// IsQueryError reports whether err is a refused query.
func IsQueryError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}
