package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Webhook is an organisation's endpoint that events are POSTed to.
type Webhook struct {
	ID          string
	OrgID       string
	URL         string
	Description string
	// Secret is the stored (sealed) form of the signing secret;
	// PrevSecret the one it replaced, still used to sign until
	// PrevSecretUntil.
	Secret          string
	PrevSecret      string
	PrevSecretUntil time.Time
	// Types and Cameras filter what is delivered; empty: everything.
	Types   []string
	Cameras []string
	Enabled bool
	// DisabledReason and DisabledAt say why and when delivery stopped
	// (by a user, or after failing too long).
	DisabledReason string
	DisabledAt     time.Time
	CreatedBy      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// WebhookCursor is how far a webhook has got in one zone's event log:
// every event up to Seq is delivered or did not match. The lease says
// which node delivers the zone's events to the webhook now.
type WebhookCursor struct {
	WebhookID  string
	Zone       string
	Seq        int64
	LeaseOwner string
	LeaseUntil time.Time
	// Attempts counts the failed rounds since the last success,
	// NextAttempt is when to try again, FailingSince when the failures
	// began (zero while delivery succeeds).
	Attempts     int
	NextAttempt  time.Time
	FailingSince time.Time
}

// WebhookDelivery is one attempt to deliver one event to a webhook.
type WebhookDelivery struct {
	WebhookID string
	ID        string
	EventID   string
	EventType string
	Zone      string
	Seq       int64
	Attempt   int
	// Status is the HTTP status answered; 0 when there was no answer
	// (Error says why).
	Status int
	// Duration is the request's round trip; Lag the time from the event
	// to its successful delivery (0 for a failure).
	Duration time.Duration
	Lag      time.Duration
	Error    string
	At       time.Time
	// Node is the api node that made the attempt.
	Node string
}

// Webhook bounds the repository checks.
const (
	MaxWebhooksPerOrg     = 20
	MaxWebhookURL         = 2048
	MaxWebhookTypes       = 32
	MaxWebhookCameras     = 100
	MaxWebhookDescription = 320
	maxDeliveryError      = 500
	maxDeliveryList       = 1000
)

// WebhookStore keeps webhooks, their cursors and their delivery log.
type WebhookStore interface {
	// CreateWebhook stores w and its cursors (one per zone, at the zone's
	// head) in one transaction; ErrLimit when the organisation has
	// MaxWebhooksPerOrg webhooks already.
	CreateWebhook(ctx context.Context, w Webhook, cursors []WebhookCursor) error
	GetWebhook(ctx context.Context, id string) (Webhook, error)
	// ListWebhooks returns an organisation's webhooks ("" every
	// organisation's), by creation.
	ListWebhooks(ctx context.Context, orgID string) ([]Webhook, error)
	// ModifyWebhook applies fn to the webhook as stored, its row locked,
	// and writes the result in the same transaction. When it turns
	// Enabled on, its cursors are reset to heads (zone: seq), unleased
	// and healthy. fn may not change the id, organisation or creation.
	ModifyWebhook(ctx context.Context, id string, heads map[string]int64, fn func(w *Webhook) error) (before, after Webhook, err error)
	// DeleteWebhook deletes the webhook, its cursors and its log.
	DeleteWebhook(ctx context.Context, id string) error
	// DisableWebhook turns an enabled webhook off with a reason; false
	// when it was not enabled (or is gone).
	DisableWebhook(ctx context.Context, id, reason string, at time.Time) (bool, error)

	// ListWebhooksChangedSince returns up to limit (at most 1000)
	// webhooks whose UpdatedAt is at or after since, oldest change first:
	// what an api node reloads between full listings.
	ListWebhooksChangedSince(ctx context.Context, since time.Time, limit int) ([]Webhook, error)

	// ListWebhookCursors returns the cursors of webhookID ("" every
	// webhook's).
	ListWebhookCursors(ctx context.Context, webhookID string) ([]WebhookCursor, error)
	// ListClaimableWebhookCursors returns up to limit (at most 1000)
	// cursors of enabled webhooks whose lease is free or expired at now:
	// those ClaimWebhookCursor may give to a node.
	ListClaimableWebhookCursors(ctx context.Context, now time.Time, limit int) ([]WebhookCursor, error)
	// AddWebhookCursor stores c unless the webhook has a cursor for that
	// zone already (then it is left alone, and no error).
	AddWebhookCursor(ctx context.Context, c WebhookCursor) error
	// ClaimWebhookCursor gives owner the lease of the cursor until until
	// if it is free, expired (at now) or owner's already, and returns the
	// cursor; false when another node holds it or the webhook is
	// disabled or gone.
	ClaimWebhookCursor(ctx context.Context, webhookID, zone, owner string, until, now time.Time) (WebhookCursor, bool, error)
	// SaveWebhookCursor writes c's position and retry state, renews
	// owner's lease until until and appends log, in one transaction, if
	// owner still holds the lease and the webhook is enabled; else
	// ErrNotFound and nothing is written.
	SaveWebhookCursor(ctx context.Context, c WebhookCursor, owner string, until time.Time, log []WebhookDelivery) error
	// ReleaseWebhookCursor gives up owner's lease.
	ReleaseWebhookCursor(ctx context.Context, webhookID, zone, owner string) error

	// AddWebhookDeliveries appends to the delivery log.
	AddWebhookDeliveries(ctx context.Context, log []WebhookDelivery) error
	// ListWebhookDeliveries returns up to limit (at most 1000) attempts of
	// a webhook, newest first, after before (a row of an earlier page;
	// nil: from the newest).
	ListWebhookDeliveries(ctx context.Context, webhookID string, before *WebhookDelivery, limit int) ([]WebhookDelivery, error)
	// TrimWebhookDeliveries keeps about the newest keep attempts of a
	// webhook (all of those at the oldest kept instant) and returns how
	// many it deleted.
	TrimWebhookDeliveries(ctx context.Context, webhookID string, keep int) (int, error)
}

// webhookCols is the column list scanWebhook reads.
const webhookCols = "id, org_id, url, description, secret, prev_secret, prev_until_us, types, cameras, enabled, disabled_reason, disabled_us, created_by, created_us, updated_us"

func scanWebhook(row interface{ Scan(...any) error }) (Webhook, error) {
	var w Webhook
	var prevUntil, disabled, created, updated int64
	var types, cams string
	err := row.Scan(&w.ID, &w.OrgID, &w.URL, &w.Description, &w.Secret, &w.PrevSecret, &prevUntil, &types, &cams, &w.Enabled,
		&w.DisabledReason, &disabled, &w.CreatedBy, &created, &updated)
	w.PrevSecretUntil, w.DisabledAt, w.CreatedAt, w.UpdatedAt = fromMicros(prevUntil), fromMicros(disabled), fromMicros(created), fromMicros(updated)
	w.Types, w.Cameras = splitList(types), splitList(cams)
	return w, err
}

// splitList reads a comma-separated list; nil for "".
func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// checkWebhook validates w before it is written.
func checkWebhook(w Webhook) error {
	var c check
	c.id("webhook id", w.ID)
	c.id("org id", w.OrgID)
	c.str("webhook url", w.URL, MaxWebhookURL, true)
	c.str("webhook description", w.Description, MaxWebhookDescription, false)
	c.str("webhook secret", w.Secret, maxKey, true)
	c.str("webhook previous secret", w.PrevSecret, maxKey, false)
	c.str("webhook disabled reason", w.DisabledReason, maxDeliveryError, false)
	c.str("webhook creator", w.CreatedBy, maxID, false)
	c.ok(len(w.Types) <= MaxWebhookTypes, fmt.Sprintf("a webhook filters at most %d types", MaxWebhookTypes))
	c.ok(len(w.Cameras) <= MaxWebhookCameras, fmt.Sprintf("a webhook filters at most %d cameras", MaxWebhookCameras))
	for _, t := range w.Types {
		c.str("webhook type", t, maxID, true)
		c.ok(!strings.Contains(t, ","), "a webhook type holds a comma")
	}
	for _, id := range w.Cameras {
		c.id("webhook camera", id)
		c.ok(!strings.Contains(id, ","), "a webhook camera id holds a comma")
	}
	return c.err
}

// webhookArgs are w's column values in webhookCols order.
func webhookArgs(w Webhook) []any {
	return []any{w.ID, w.OrgID, w.URL, w.Description, w.Secret, w.PrevSecret, toMicros(w.PrevSecretUntil),
		strings.Join(w.Types, ","), strings.Join(w.Cameras, ","), w.Enabled, w.DisabledReason, toMicros(w.DisabledAt),
		w.CreatedBy, toMicros(w.CreatedAt), toMicros(w.UpdatedAt)}
}

// CreateWebhook stores w and its cursors, within the organisation's bound.
func (r *directory) CreateWebhook(ctx context.Context, w Webhook, cursors []WebhookCursor) error {
	if err := checkWebhook(w); err != nil {
		return err
	}
	return r.inTx(ctx, func(tx *sql.Tx) error {
		// The organisation's row serialises creations (MySQL; SQLite's
		// transactions run one at a time anyway).
		var org string
		if err := tx.QueryRowContext(ctx, "SELECT id FROM orgs WHERE id = ?"+r.d.forUpdate, w.OrgID).Scan(&org); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM webhooks WHERE org_id = ?", w.OrgID).Scan(&n); err != nil {
			return err
		}
		if n >= MaxWebhooksPerOrg {
			return ErrLimit
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO webhooks ("+webhookCols+") VALUES ("+placeholders(15)+")", webhookArgs(w)...); err != nil {
			return err
		}
		for _, c := range cursors {
			c.WebhookID = w.ID
			if err := insertCursor(ctx, tx, c); err != nil {
				return err
			}
		}
		return nil
	})
}

// GetWebhook returns webhook id or ErrNotFound.
func (r *directory) GetWebhook(ctx context.Context, id string) (Webhook, error) {
	w, err := scanWebhook(r.db.QueryRowContext(ctx, "SELECT "+webhookCols+" FROM webhooks WHERE id = ?", id))
	return w, r.mapErr(err)
}

// ListWebhooks returns the webhooks of orgID ("" all), by creation.
func (r *directory) ListWebhooks(ctx context.Context, orgID string) ([]Webhook, error) {
	return listBy(ctx, r, "SELECT "+webhookCols+" FROM webhooks", "org_id", orgID, "created_us, id", scanWebhook)
}

// listBy runs q, filtered on col = val unless val is "", in order, and
// scans every row.
func listBy[T any](ctx context.Context, r *directory, q, col, val, order string, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	var args []any
	if val != "" {
		q, args = q+" WHERE "+col+" = ?", append(args, val)
	}
	rows, err := r.db.QueryContext(ctx, q+" ORDER BY "+order, args...)
	if err != nil {
		return nil, r.mapErr(err)
	}
	return collect(rows, r.mapErr, func(rows *sql.Rows) (T, error) { return scan(rows) })
}

// ModifyWebhook changes a webhook under its row lock.
func (r *directory) ModifyWebhook(ctx context.Context, id string, heads map[string]int64, fn func(w *Webhook) error) (before, after Webhook, err error) {
	err = r.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		before, err = scanWebhook(tx.QueryRowContext(ctx, "SELECT "+webhookCols+" FROM webhooks WHERE id = ?"+r.d.forUpdate, id))
		if err != nil {
			return err
		}
		after = before
		after.Types, after.Cameras = append([]string(nil), before.Types...), append([]string(nil), before.Cameras...)
		if err := fn(&after); err != nil {
			return err
		}
		if after.ID != before.ID || after.OrgID != before.OrgID || !after.CreatedAt.Equal(before.CreatedAt) {
			return fmt.Errorf("store: a webhook's id, organisation and creation cannot change")
		}
		if err := checkWebhook(after); err != nil {
			return err
		}
		sets := strings.Split(webhookCols, ", ")[1:]
		args := webhookArgs(after)[1:]
		if _, err := tx.ExecContext(ctx, "UPDATE webhooks SET "+strings.Join(sets, " = ?, ")+" = ? WHERE id = ?", append(args, id)...); err != nil {
			return err
		}
		if before.Enabled || !after.Enabled {
			return nil
		}
		// Turned on again: from the heads, healthy, and whoever held a
		// lease loses it (its next save finds it gone).
		if _, err := tx.ExecContext(ctx, "UPDATE webhook_cursors SET lease_owner = '', lease_until_us = 0, attempts = 0, next_attempt_us = 0, failing_since_us = 0 WHERE webhook_id = ?", id); err != nil {
			return err
		}
		for zn, seq := range heads {
			if _, err := tx.ExecContext(ctx, "DELETE FROM webhook_cursors WHERE webhook_id = ? AND zone = ?", id, zn); err != nil {
				return err
			}
			if err := insertCursor(ctx, tx, WebhookCursor{WebhookID: id, Zone: zn, Seq: seq}); err != nil {
				return err
			}
		}
		return nil
	})
	return before, after, err
}

// DeleteWebhook deletes a webhook; its cursors and log go with it.
func (r *directory) DeleteWebhook(ctx context.Context, id string) error {
	return r.execOne(ctx, "DELETE FROM webhooks WHERE id = ?", id)
}

// DisableWebhook turns an enabled webhook off.
func (r *directory) DisableWebhook(ctx context.Context, id, reason string, at time.Time) (bool, error) {
	if len(reason) > maxDeliveryError {
		reason = reason[:maxDeliveryError]
	}
	res, err := r.exec(ctx, "UPDATE webhooks SET enabled = ?, disabled_reason = ?, disabled_us = ?, updated_us = ? WHERE id = ? AND enabled = ?",
		false, reason, toMicros(at), toMicros(at), id, true)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, r.mapErr(err)
}

// cursorCols is the column list scanCursor reads.
const cursorCols = "webhook_id, zone, seq, lease_owner, lease_until_us, attempts, next_attempt_us, failing_since_us"

func scanCursor(row interface{ Scan(...any) error }) (WebhookCursor, error) {
	var c WebhookCursor
	var until, next, failing int64
	err := row.Scan(&c.WebhookID, &c.Zone, &c.Seq, &c.LeaseOwner, &until, &c.Attempts, &next, &failing)
	c.LeaseUntil, c.NextAttempt, c.FailingSince = fromMicros(until), fromMicros(next), fromMicros(failing)
	return c, err
}

func checkCursor(c WebhookCursor) error {
	var ck check
	ck.id("webhook id", c.WebhookID)
	ck.id("zone", c.Zone)
	ck.str("lease owner", c.LeaseOwner, maxID, false)
	ck.ok(c.Seq >= 0 && c.Attempts >= 0, "negative cursor")
	return ck.err
}

func insertCursor(ctx context.Context, tx *sql.Tx, c WebhookCursor) error {
	if err := checkCursor(c); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO webhook_cursors ("+cursorCols+") VALUES ("+placeholders(8)+")",
		c.WebhookID, c.Zone, c.Seq, c.LeaseOwner, toMicros(c.LeaseUntil), c.Attempts, toMicros(c.NextAttempt), toMicros(c.FailingSince))
	return err
}

// maxChangeList bounds ListWebhooksChangedSince and
// ListClaimableWebhookCursors.
const maxChangeList = 1000

// ListWebhooksChangedSince returns the webhooks updated at or after since.
func (r *directory) ListWebhooksChangedSince(ctx context.Context, since time.Time, limit int) ([]Webhook, error) {
	limit = min(max(limit, 1), maxChangeList)
	rows, err := r.db.QueryContext(ctx, "SELECT "+webhookCols+" FROM webhooks WHERE updated_us >= ? ORDER BY updated_us, id LIMIT ?",
		toMicros(since), limit)
	if err != nil {
		return nil, r.mapErr(err)
	}
	return collect(rows, r.mapErr, func(rows *sql.Rows) (Webhook, error) { return scanWebhook(rows) })
}

// ListClaimableWebhookCursors returns the cursors free or expired at now.
func (r *directory) ListClaimableWebhookCursors(ctx context.Context, now time.Time, limit int) ([]WebhookCursor, error) {
	limit = min(max(limit, 1), maxChangeList)
	rows, err := r.db.QueryContext(ctx, "SELECT "+cursorCols+" FROM webhook_cursors WHERE (lease_owner = '' OR lease_until_us <= ?) AND "+
		enabledWebhook+" ORDER BY webhook_id, zone LIMIT ?", toMicros(now), true, limit)
	if err != nil {
		return nil, r.mapErr(err)
	}
	return collect(rows, r.mapErr, func(rows *sql.Rows) (WebhookCursor, error) { return scanCursor(rows) })
}

// ListWebhookCursors returns the cursors of webhookID ("" all), by webhook and zone.
func (r *directory) ListWebhookCursors(ctx context.Context, webhookID string) ([]WebhookCursor, error) {
	return listBy(ctx, r, "SELECT "+cursorCols+" FROM webhook_cursors", "webhook_id", webhookID, "webhook_id, zone", scanCursor)
}

// AddWebhookCursor stores c unless its webhook has one for the zone.
func (r *directory) AddWebhookCursor(ctx context.Context, c WebhookCursor) error {
	err := r.inTx(ctx, func(tx *sql.Tx) error { return insertCursor(ctx, tx, c) })
	if isConflict(err) {
		return nil
	}
	return err
}

// enabledWebhook is the condition that a cursor's webhook is enabled.
const enabledWebhook = "EXISTS (SELECT 1 FROM webhooks w WHERE w.id = webhook_cursors.webhook_id AND w.enabled = ?)"

// ClaimWebhookCursor takes the cursor's lease when it is free, expired or
// owner's: one conditional UPDATE, so nodes racing for it agree on one.
func (r *directory) ClaimWebhookCursor(ctx context.Context, webhookID, zone, owner string, until, now time.Time) (WebhookCursor, bool, error) {
	var ck check
	ck.id("lease owner", owner)
	ck.ok(until.After(now), "lease ends before it begins")
	if ck.err != nil {
		return WebhookCursor{}, false, ck.err
	}
	res, err := r.exec(ctx, "UPDATE webhook_cursors SET lease_owner = ?, lease_until_us = ? WHERE webhook_id = ? AND zone = ? AND "+
		"(lease_owner = ? OR lease_owner = '' OR lease_until_us <= ?) AND "+enabledWebhook,
		owner, toMicros(until), webhookID, zone, owner, toMicros(now), true)
	if err != nil {
		return WebhookCursor{}, false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return WebhookCursor{}, false, r.mapErr(err)
	}
	c, err := scanCursor(r.db.QueryRowContext(ctx, "SELECT "+cursorCols+" FROM webhook_cursors WHERE webhook_id = ? AND zone = ?", webhookID, zone))
	if err != nil {
		return WebhookCursor{}, false, r.mapErr(err)
	}
	return c, c.LeaseOwner == owner, nil
}

// SaveWebhookCursor writes the cursor and log if owner still holds it.
func (r *directory) SaveWebhookCursor(ctx context.Context, c WebhookCursor, owner string, until time.Time, log []WebhookDelivery) error {
	if err := checkCursor(c); err != nil {
		return err
	}
	for _, d := range log {
		if err := checkDelivery(d); err != nil {
			return err
		}
	}
	return r.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE webhook_cursors SET seq = ?, lease_until_us = ?, attempts = ?, next_attempt_us = ?, failing_since_us = ? "+
			"WHERE webhook_id = ? AND zone = ? AND lease_owner = ? AND "+enabledWebhook,
			c.Seq, toMicros(until), c.Attempts, toMicros(c.NextAttempt), toMicros(c.FailingSince), c.WebhookID, c.Zone, owner, true)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrNotFound
		}
		return insertDeliveries(ctx, tx, log)
	})
}

// ReleaseWebhookCursor gives up owner's lease.
func (r *directory) ReleaseWebhookCursor(ctx context.Context, webhookID, zone, owner string) error {
	_, err := r.exec(ctx, "UPDATE webhook_cursors SET lease_owner = '', lease_until_us = 0 WHERE webhook_id = ? AND zone = ? AND lease_owner = ?",
		webhookID, zone, owner)
	return err
}

// deliveryCols is the column list scanDelivery reads.
const deliveryCols = "webhook_id, at_us, id, event_id, event_type, zone, seq, attempt, status, duration_us, lag_us, error, node"

func scanDelivery(row interface{ Scan(...any) error }) (WebhookDelivery, error) {
	var d WebhookDelivery
	var at, dur, lag int64
	err := row.Scan(&d.WebhookID, &at, &d.ID, &d.EventID, &d.EventType, &d.Zone, &d.Seq, &d.Attempt, &d.Status, &dur, &lag, &d.Error, &d.Node)
	d.At, d.Duration, d.Lag = fromMicros(at), time.Duration(dur)*time.Microsecond, time.Duration(lag)*time.Microsecond
	return d, err
}

func checkDelivery(d WebhookDelivery) error {
	var c check
	c.id("webhook id", d.WebhookID)
	c.id("delivery id", d.ID)
	c.str("event id", d.EventID, maxID, false)
	c.str("event type", d.EventType, maxID, true)
	c.str("zone", d.Zone, maxID, false)
	c.str("delivery error", d.Error, maxDeliveryError, false)
	c.str("node", d.Node, maxID, false)
	c.ok(!d.At.IsZero(), "delivery time is zero")
	return c.err
}

func insertDeliveries(ctx context.Context, tx *sql.Tx, log []WebhookDelivery) error {
	const perStatement = 100
	for len(log) > 0 {
		n := min(len(log), perStatement)
		rows := strings.Repeat("("+placeholders(13)+"), ", n)
		args := make([]any, 0, 13*n)
		for _, d := range log[:n] {
			args = append(args, d.WebhookID, toMicros(d.At), d.ID, d.EventID, d.EventType, d.Zone, d.Seq, d.Attempt, d.Status,
				d.Duration.Microseconds(), d.Lag.Microseconds(), d.Error, d.Node)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO webhook_deliveries ("+deliveryCols+") VALUES "+strings.TrimSuffix(rows, ", "), args...); err != nil {
			return err
		}
		log = log[n:]
	}
	return nil
}

// AddWebhookDeliveries appends to the delivery log.
func (r *directory) AddWebhookDeliveries(ctx context.Context, log []WebhookDelivery) error {
	for _, d := range log {
		if err := checkDelivery(d); err != nil {
			return err
		}
	}
	return r.inTx(ctx, func(tx *sql.Tx) error { return insertDeliveries(ctx, tx, log) })
}

// ListWebhookDeliveries returns a webhook's attempts, newest first.
func (r *directory) ListWebhookDeliveries(ctx context.Context, webhookID string, before *WebhookDelivery, limit int) ([]WebhookDelivery, error) {
	q, args := "SELECT "+deliveryCols+" FROM webhook_deliveries WHERE webhook_id = ?", []any{webhookID}
	if before != nil {
		at := toMicros(before.At)
		q, args = q+" AND (at_us < ? OR at_us = ? AND id < ?)", append(args, at, at, before.ID)
	}
	rows, err := r.db.QueryContext(ctx, q+" ORDER BY at_us DESC, id DESC LIMIT ?", append(args, clampLimit(limit, 100, maxDeliveryList))...)
	if err != nil {
		return nil, r.mapErr(err)
	}
	return collect(rows, r.mapErr, func(rows *sql.Rows) (WebhookDelivery, error) { return scanDelivery(rows) })
}

// TrimWebhookDeliveries deletes a webhook's attempts older than its
// keep-th newest.
func (r *directory) TrimWebhookDeliveries(ctx context.Context, webhookID string, keep int) (int, error) {
	if keep < 1 {
		keep = 1
	}
	var oldest int64
	err := r.db.QueryRowContext(ctx, "SELECT at_us FROM webhook_deliveries WHERE webhook_id = ? ORDER BY at_us DESC, id DESC LIMIT 1 OFFSET ?",
		webhookID, keep-1).Scan(&oldest)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	if err != nil {
		return 0, r.mapErr(err)
	}
	res, err := r.exec(ctx, "DELETE FROM webhook_deliveries WHERE webhook_id = ? AND at_us < ?", webhookID, oldest)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), r.mapErr(err)
}
