package webhooks

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/events"
	"github.com/camcloud/camcloud/internal/store"
)

// TypeTest is the type of the ping that Test sends; it is never stored
// as an event.
const TypeTest = "webhook.test"

// Delivery log pages.
const (
	DefaultDeliveries = 100
	MaxDeliveries     = 1000
)

// DeliveryPage is one page of a webhook's delivery log, newest first;
// Next continues it ("" at the end).
type DeliveryPage struct {
	Deliveries []store.WebhookDelivery
	Next       string
}

// Deliveries returns a page of webhook id's delivery log (of orgID, for
// p) after cursor (a DeliveryPage.Next; "" from the newest).
func (s *Service) Deliveries(ctx context.Context, p *authz.Principal, orgID, id, cursor string, limit int) (DeliveryPage, error) {
	if _, err := s.load(ctx, p, orgID, id); err != nil {
		return DeliveryPage{}, err
	}
	if limit < 0 || limit > MaxDeliveries {
		return DeliveryPage{}, invalid("limit must be 1 to %d", MaxDeliveries)
	}
	if limit == 0 {
		limit = DefaultDeliveries
	}
	before, err := parseDeliveryCursor(cursor)
	if err != nil {
		return DeliveryPage{}, err
	}
	rows, err := s.c.Dir.ListWebhookDeliveries(ctx, id, before, limit)
	if err != nil {
		return DeliveryPage{}, err
	}
	page := DeliveryPage{Deliveries: rows}
	if len(rows) == limit {
		last := rows[len(rows)-1]
		page.Next = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(last.At.UnixMicro(), 10) + "." + last.ID))
	}
	return page, nil
}

// parseDeliveryCursor reads a DeliveryPage.Next; nil for "".
func parseDeliveryCursor(c string) (*store.WebhookDelivery, error) {
	if c == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if len(c) > 200 || err != nil {
		return nil, invalid("malformed cursor")
	}
	us, id, ok := strings.Cut(string(b), ".")
	n, err := strconv.ParseInt(us, 10, 64)
	if !ok || err != nil || n <= 0 || id == "" || len(id) > 64 {
		return nil, invalid("malformed cursor")
	}
	return &store.WebhookDelivery{At: time.UnixMicro(n).UTC(), ID: id}, nil
}

// Test sends webhook id (of orgID, for p) a signed ping of type
// webhook.test at once, whether it is enabled or not, logs it and
// returns the attempt.
func (s *Service) Test(ctx context.Context, p *authz.Principal, orgID, id string) (store.WebhookDelivery, error) {
	w, err := s.load(ctx, p, orgID, id)
	if err != nil {
		return store.WebhookDelivery{}, err
	}
	h, err := s.openHook(w)
	if err != nil {
		return store.WebhookDelivery{}, err
	}
	now := s.c.Now().UTC()
	ev := events.JSON{ID: newID(), Type: TypeTest, OrgID: orgID, Time: now, Source: events.SourceSystem,
		Detail: events.Detail(map[string]string{"webhook_id": id})}
	body, err := json.Marshal(ev)
	if err != nil {
		return store.WebhookDelivery{}, err
	}
	r := s.send(ctx, h, body, ev.ID, 0, 1)
	d := store.WebhookDelivery{WebhookID: id, ID: newID(), EventID: ev.ID, EventType: TypeTest, Attempt: 1, Status: r.Status,
		Duration: r.Duration, Error: r.Err, At: now, Node: s.c.Node}
	if err := s.c.Dir.AddWebhookDeliveries(ctx, []store.WebhookDelivery{d}); err != nil {
		return store.WebhookDelivery{}, err
	}
	s.trimLog(ctx, id, 1)
	return d, nil
}
