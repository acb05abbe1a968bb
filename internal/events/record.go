package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/usage"
)

// systemTypes are the types the platform itself records.
var systemTypes = map[string]bool{TypeOnline: true, TypeOffline: true, TypeRecordingGap: true, TypeRecordingStorage: true, TypeMotion: true, TypeWebhookDisabled: true, TypeExportReady: true}

// customName is what may follow "custom." in a custom type.
var customName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,55}$`)

// IsCustom reports whether t is a custom type: "custom" or "custom.NAME"
// (NAME: lower-case letters, digits, '_', '.', '-', at most 56 bytes).
func IsCustom(t string) bool {
	if t == TypeCustom {
		return true
	}
	name, ok := strings.CutPrefix(t, TypeCustom+".")
	return ok && customName.MatchString(name)
}

// ValidType reports whether t is a type events may have.
func ValidType(t string) bool { return systemTypes[t] || IsCustom(t) }

// compactDetail checks that d is a JSON object of at most MaxDetail
// bytes once compacted, and returns it compacted ("" for none).
func compactDetail(d json.RawMessage) (string, error) {
	if len(bytes.TrimSpace(d)) == 0 || string(bytes.TrimSpace(d)) == "null" {
		return "", nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, d); err != nil {
		return "", invalid("detail must be JSON")
	}
	if buf.Len() == 0 || buf.Bytes()[0] != '{' {
		return "", invalid("detail must be a JSON object")
	}
	if buf.Len() > MaxDetail {
		return "", invalid("detail is %d bytes, at most %d", buf.Len(), MaxDetail)
	}
	return buf.String(), nil
}

// Detail marshals v (a map or struct) as an event detail; it panics on
// values that do not marshal, which is a programming error.
func Detail(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// row checks e and builds its row: the camera (looked up, so that the
// organisation and zone are the camera's), the type, the detail.
func (s *Service) row(ctx context.Context, e Event) (store.Event, string, error) {
	if !ValidType(e.Type) {
		return store.Event{}, "", invalid("unknown event type %q", e.Type)
	}
	if e.Start.IsZero() {
		e.Start = s.c.Now()
	}
	if !e.End.IsZero() && e.End.Before(e.Start) {
		return store.Event{}, "", invalid("end is before start")
	}
	detail, err := compactDetail(e.Detail)
	if err != nil {
		return store.Event{}, "", err
	}
	cam, err := s.camera(ctx, e.CameraID)
	if err != nil {
		return store.Event{}, "", err
	}
	if e.Source == "" {
		e.Source = SourceSystem
	}
	if e.ID == "" {
		e.ID = newID()
	}
	return store.Event{ID: e.ID, CameraID: cam.ID, OrgID: cam.OrgID, Type: e.Type, Start: e.Start.UTC().Truncate(time.Microsecond),
		End: e.End.UTC().Truncate(time.Microsecond), Ongoing: e.Ongoing, Detail: detail, Source: e.Source}, cam.Zone, nil
}

// Record stores an event of e.CameraID: instantaneous, or ranged with its
// end known (End set). Start defaults to now, Source to "system"; the
// organisation and zone are the camera's. It returns the event as
// stored. store.ErrNotFound when the camera does not exist; *InputError
// for a bad type or detail.
func (s *Service) Record(ctx context.Context, e Event) (Event, error) {
	e.Ongoing = false
	return s.write(ctx, e)
}

// Open stores a ranged event that goes on until Close (End is ignored)
// and returns its id.
func (s *Service) Open(ctx context.Context, e Event) (string, error) {
	e.Ongoing, e.End = true, time.Time{}
	out, err := s.write(ctx, e)
	return out.ID, err
}

func (s *Service) write(ctx context.Context, e Event) (Event, error) {
	r, zn, err := s.row(ctx, e)
	if err != nil {
		return Event{}, err
	}
	db, err := s.zoneDB(zn)
	if err != nil {
		return Event{}, err
	}
	got, err := db.InsertEvent(ctx, r)
	if err != nil {
		return Event{}, err
	}
	s.recorded.WithLabelValues(metricType(got.Type)).Inc()
	s.c.Meter.Add(zn, got.OrgID, got.CameraID, usage.Events, 1)
	s.broker.poke(zn)
	return fromRow(zn, got), nil
}

// Close ends the ongoing event id at end (an end before its start is its
// start). store.ErrNotFound when no ongoing event has that id.
func (s *Service) Close(ctx context.Context, id string, end time.Time) error {
	_, err := s.CloseEvent(ctx, id, end)
	return err
}

// CloseEvent is Close returning the ended event.
func (s *Service) CloseEvent(ctx context.Context, id string, end time.Time) (Event, error) {
	if end.IsZero() {
		end = s.c.Now()
	}
	for _, zn := range s.c.Zones.Names() {
		db, err := s.zoneDB(zn)
		if err != nil {
			continue
		}
		got, err := db.CloseEvent(ctx, id, end.UTC().Truncate(time.Microsecond))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return Event{}, err
		}
		s.broker.poke(zn)
		return fromRow(zn, got), nil
	}
	return Event{}, store.ErrNotFound
}

// CloseOngoing ends every ongoing event of cameraID of type typ ("" any)
// at end, such as those a crashed camera server left open, and returns
// how many it ended.
func (s *Service) CloseOngoing(ctx context.Context, cameraID, typ string, end time.Time) (int, error) {
	cam, err := s.camera(ctx, cameraID)
	if err != nil {
		return 0, err
	}
	db, err := s.zoneDB(cam.Zone)
	if err != nil {
		return 0, err
	}
	on, err := db.OngoingEvents(ctx, cameraID, typ)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range on {
		if _, err := db.CloseEvent(ctx, e.ID, end.UTC().Truncate(time.Microsecond)); err != nil && !errors.Is(err, store.ErrNotFound) {
			return n, err
		}
		n++
	}
	if n > 0 {
		s.broker.poke(cam.Zone)
	}
	return n, nil
}

// Tail returns up to limit (at most 1000) events of zone zn with a
// sequence number above after, in sequence order: a reader that keeps
// the last Seq it saw and asks again sees every event written after it
// (an event closed since is seen again, ended). Tail works from any
// process that opens the zone.
func (s *Service) Tail(ctx context.Context, zn string, after int64, limit int) ([]Event, error) {
	db, err := s.zoneDB(zn)
	if err != nil {
		return nil, err
	}
	rows, err := db.TailEvents(ctx, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Event, len(rows))
	for i, r := range rows {
		out[i] = fromRow(zn, r)
	}
	return out, nil
}

// Head returns the highest sequence number of zone zn so far: where a
// new reader that wants only what comes next starts.
func (s *Service) Head(ctx context.Context, zn string) (int64, error) {
	db, err := s.zoneDB(zn)
	if err != nil {
		return 0, err
	}
	return db.LastEventSeq(ctx)
}

// Zones lists the zones whose events this process can read.
func (s *Service) Zones() []string { return s.c.Zones.Names() }
