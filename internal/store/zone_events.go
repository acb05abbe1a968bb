package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Event is one row of a zone's event log: something that happened to a
// camera at Start (and, for a ranged event, lasted until End).
type Event struct {
	ID       string
	CameraID string
	OrgID    string
	Type     string
	Start    time.Time
	// End is when a ranged event ended; zero for an instantaneous event
	// and for a ranged one still going on (Ongoing).
	End     time.Time
	Ongoing bool
	// Detail is a small JSON object (at most MaxEventDetail bytes).
	Detail string
	Source string
	// Seq is the event's place in its zone's log, given by the zone when
	// the event is written and again when it is closed: readers tail the
	// log with TailEvents(seq > cursor).
	Seq int64
}

// MaxEventDetail bounds an event's detail in bytes.
const MaxEventDetail = 4096

// EventFilter selects events for ListEvents; zero fields do not filter.
type EventFilter struct {
	CameraID string
	// OrgIDs restricts the events to these organisations; nil: any.
	OrgIDs []string
	Types  []string
	// From and To bound the events' start: From <= start < To.
	From, To time.Time
	// After, when set, continues a newest-first listing after this event
	// (by start, then id): the cursor of a page.
	After *Event
	Limit int
}

// Presence is the online state last announced for a camera (by a
// camera.online or camera.offline event), and the server that saw it.
type Presence struct {
	CameraID string
	State    string // PresenceOnline, PresenceOffline
	Server   string
	Since    time.Time
}

// Presence states.
const (
	PresenceOnline  = "online"
	PresenceOffline = "offline"
)

// AwayCamera is a camera announced online whose status says it is gone:
// a candidate for camera.offline.
type AwayCamera struct {
	Presence Presence
	Status   CameraStatus
}

// Event listing bounds.
const (
	defaultEventLimit = 100
	maxEventLimit     = 1000
	maxEventTypes     = 32
)

// EventStore is the zone's event log. Writes that give a sequence number
// take the zone's counter row for the rest of their transaction, so
// numbers are committed in the order they are given: a reader that has
// seen seq n has seen every event below n that still exists.
type EventStore interface {
	// InsertEvent stores e with the next sequence number and returns it.
	InsertEvent(ctx context.Context, e Event) (Event, error)
	// CloseEvent ends the ongoing event id at end with a new sequence
	// number (tailing readers see it again, ended); ErrNotFound when no
	// ongoing event has that id.
	CloseEvent(ctx context.Context, id string, end time.Time) (Event, error)
	// OngoingEvents returns a camera's ongoing events of type typ ("" any).
	OngoingEvents(ctx context.Context, cameraID, typ string) ([]Event, error)
	GetEvent(ctx context.Context, id string) (Event, error)
	// ListEvents returns the events matching f, newest (start, then id) first.
	ListEvents(ctx context.Context, f EventFilter) ([]Event, error)
	// TailEvents returns up to limit events with seq > after, by seq.
	TailEvents(ctx context.Context, after int64, limit int) ([]Event, error)
	// LastEventSeq is the highest sequence number given so far.
	LastEventSeq(ctx context.Context) (int64, error)
	// DeleteEvents deletes about limit (at least) of a camera's events
	// that started before before, oldest first, and returns how many.
	DeleteEvents(ctx context.Context, cameraID string, before time.Time, limit int) (int, error)
	// EventCameras lists the cameras that have any event.
	EventCameras(ctx context.Context) ([]string, error)

	// MarkOnline makes a camera's presence online, held by serverID. When
	// it was not online it also stores ev (as InsertEvent does), in the
	// same transaction, and reports true.
	MarkOnline(ctx context.Context, cameraID, serverID string, at time.Time, ev Event) (bool, Event, error)
	// MarkOffline makes a camera's presence offline and stores ev, in one
	// transaction, if its presence is online and its status says it is
	// gone: offline and last seen at or before awayBefore, or online but
	// not reported since staleBefore (its server stopped). It reports
	// whether it did, and returns the status it saw.
	MarkOffline(ctx context.Context, cameraID string, awayBefore, staleBefore time.Time, ev Event) (bool, CameraStatus, Event, error)
	// GetPresence returns a camera's presence; State "" when none.
	GetPresence(ctx context.Context, cameraID string) (Presence, error)
	// AwayCameras lists up to limit cameras whose presence is online and
	// whose status says they are gone (as MarkOffline decides).
	AwayCameras(ctx context.Context, awayBefore, staleBefore time.Time, limit int) ([]AwayCamera, error)
	// DeletePresence forgets a camera's presence (a deleted camera).
	DeletePresence(ctx context.Context, cameraID string) error
}

// eventCols is the column list scanEvent reads.
const eventCols = "id, camera_id, org_id, type, start_us, end_us, ongoing, detail, source, seq"

// scanEvent reads one row of eventCols.
func scanEvent(row interface{ Scan(...any) error }) (Event, error) {
	var e Event
	var start, end int64
	err := row.Scan(&e.ID, &e.CameraID, &e.OrgID, &e.Type, &start, &end, &e.Ongoing, &e.Detail, &e.Source, &e.Seq)
	e.Start, e.End = fromMicros(start), fromMicros(end)
	return e, err
}

// checkEvent validates e before it is written.
func checkEvent(e Event) error {
	var c check
	c.id("event id", e.ID)
	c.id("camera id", e.CameraID)
	c.id("org id", e.OrgID)
	c.str("event type", e.Type, maxID, true)
	c.str("event source", e.Source, maxKey, true)
	c.str("event detail", e.Detail, MaxEventDetail, false)
	c.ok(!e.Start.IsZero(), "event start is zero")
	c.ok(e.End.IsZero() || !e.End.Before(e.Start), "event end before start")
	c.ok(!e.Ongoing || e.End.IsZero(), "an ongoing event has no end")
	return c.err
}

// nextSeq takes the zone's counter row (held until tx ends) and returns
// the next sequence number.
func (r *zone) nextSeq(ctx context.Context, tx *sql.Tx) (int64, error) {
	if _, err := tx.ExecContext(ctx, "UPDATE event_seq SET n = n + 1 WHERE name = 'events'"); err != nil {
		return 0, err
	}
	var n int64
	err := tx.QueryRowContext(ctx, "SELECT n FROM event_seq WHERE name = 'events'").Scan(&n)
	return n, err
}

// insertEvent numbers and writes e inside tx.
func (r *zone) insertEvent(ctx context.Context, tx *sql.Tx, e Event) (Event, error) {
	if err := checkEvent(e); err != nil {
		return Event{}, err
	}
	seq, err := r.nextSeq(ctx, tx)
	if err != nil {
		return Event{}, err
	}
	e.Seq = seq
	_, err = tx.ExecContext(ctx, "INSERT INTO events (id, camera_id, org_id, type, start_us, end_us, ongoing, detail, source, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		e.ID, e.CameraID, e.OrgID, e.Type, toMicros(e.Start), toMicros(e.End), e.Ongoing, e.Detail, e.Source, e.Seq)
	return e, err
}

// InsertEvent stores e with the next sequence number.
func (r *zone) InsertEvent(ctx context.Context, e Event) (Event, error) {
	if err := checkEvent(e); err != nil {
		return Event{}, err
	}
	var out Event
	err := r.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = r.insertEvent(ctx, tx, e)
		return err
	})
	return out, err
}

// CloseEvent ends an ongoing event at end with a new sequence number.
func (r *zone) CloseEvent(ctx context.Context, id string, end time.Time) (Event, error) {
	var out Event
	err := r.inTx(ctx, func(tx *sql.Tx) error {
		seq, err := r.nextSeq(ctx, tx)
		if err != nil {
			return err
		}
		e, err := scanEvent(tx.QueryRowContext(ctx, "SELECT "+eventCols+" FROM events WHERE id = ? AND ongoing = ?"+r.d.forUpdate, id, true))
		if err != nil {
			return err
		}
		if end.Before(e.Start) {
			end = e.Start
		}
		if _, err := tx.ExecContext(ctx, "UPDATE events SET end_us = ?, ongoing = ?, seq = ? WHERE camera_id = ? AND start_us = ? AND id = ?",
			toMicros(end), false, seq, e.CameraID, toMicros(e.Start), e.ID); err != nil {
			return err
		}
		e.End, e.Ongoing, e.Seq = end, false, seq
		out = e
		return nil
	})
	return out, err
}

// OngoingEvents returns a camera's ongoing events of type typ ("" any), by start.
func (r *zone) OngoingEvents(ctx context.Context, cameraID, typ string) ([]Event, error) {
	q, args := "SELECT "+eventCols+" FROM events WHERE ongoing = ? AND camera_id = ?", []any{true, cameraID}
	if typ != "" {
		q, args = q+" AND type = ?", append(args, typ)
	}
	return r.events(ctx, q+" ORDER BY start_us LIMIT 1000", args...)
}

// GetEvent returns event id; ErrNotFound when there is none.
func (r *zone) GetEvent(ctx context.Context, id string) (Event, error) {
	e, err := scanEvent(r.db.QueryRowContext(ctx, "SELECT "+eventCols+" FROM events WHERE id = ?", id))
	return e, r.mapErr(err)
}

// ListEvents returns the events matching f, newest first: at most
// f.Limit, 100 when unset, never more than 1000.
func (r *zone) ListEvents(ctx context.Context, f EventFilter) ([]Event, error) {
	var c conds
	if f.CameraID != "" {
		c.add("camera_id = ?", f.CameraID)
	}
	if ok, err := c.orgs(f.OrgIDs); !ok || err != nil {
		return nil, err
	}
	if len(f.Types) > maxEventTypes {
		return nil, fmt.Errorf("store: %d event types in one call, at most %d", len(f.Types), maxEventTypes)
	}
	if len(f.Types) > 0 {
		if err := c.in("type", f.Types); err != nil {
			return nil, err
		}
	}
	if !f.From.IsZero() {
		c.add("start_us >= ?", toMicros(f.From))
	}
	if !f.To.IsZero() {
		c.add("start_us < ?", toMicros(f.To))
	}
	if f.After != nil {
		s := toMicros(f.After.Start)
		c.add("(start_us < ? OR start_us = ? AND id < ?)", s, s, f.After.ID)
	}
	q := "SELECT " + eventCols + " FROM events" + c.where() + " ORDER BY start_us DESC, id DESC LIMIT ?"
	return r.events(ctx, q, append(c.args, clampLimit(f.Limit, defaultEventLimit, maxEventLimit))...)
}

// TailEvents returns up to limit (at most 1000) events with seq > after, by seq.
func (r *zone) TailEvents(ctx context.Context, after int64, limit int) ([]Event, error) {
	return r.events(ctx, "SELECT "+eventCols+" FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
		after, clampLimit(limit, defaultEventLimit, maxEventLimit))
}

// LastEventSeq is the highest sequence number given so far.
func (r *zone) LastEventSeq(ctx context.Context) (int64, error) {
	var n int64
	err := r.db.QueryRowContext(ctx, "SELECT n FROM event_seq WHERE name = 'events'").Scan(&n)
	return n, r.mapErr(err)
}

// DeleteEvents deletes a camera's oldest events that started before
// before: those up to the start of the limit-th oldest (so ties at that
// start go too), and returns how many.
func (r *zone) DeleteEvents(ctx context.Context, cameraID string, before time.Time, limit int) (int, error) {
	limit = clampLimit(limit, deleteBatch, maxEventLimit)
	b := toMicros(before)
	var upto int64
	err := r.db.QueryRowContext(ctx, "SELECT start_us FROM events WHERE camera_id = ? AND start_us < ? ORDER BY start_us LIMIT 1 OFFSET ?",
		cameraID, b, limit-1).Scan(&upto)
	switch {
	case err == sql.ErrNoRows:
		upto = b - 1 // fewer than limit: all of them
	case err != nil:
		return 0, r.mapErr(err)
	}
	res, err := r.exec(ctx, "DELETE FROM events WHERE camera_id = ? AND start_us <= ? AND start_us < ?", cameraID, upto, b)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), r.mapErr(err)
}

// EventCameras lists the cameras that have any event, by id.
func (r *zone) EventCameras(ctx context.Context) ([]string, error) { return r.cameraIDs(ctx, "events") }

func (r *zone) events(ctx context.Context, q string, args ...any) ([]Event, error) {
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, r.mapErr(err)
	}
	return collect(rows, r.mapErr, func(rows *sql.Rows) (Event, error) { return scanEvent(rows) })
}
