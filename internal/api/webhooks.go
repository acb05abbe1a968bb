package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/webhooks"
)

// registerWebhooks adds the routes of an organisation's webhooks.
func (s *server) registerWebhooks(rt *httpapi.Router) {
	rt.Handle("POST /api/v1/orgs/{org}/webhooks", s.createWebhook)
	rt.Handle("GET /api/v1/orgs/{org}/webhooks", s.listWebhooks)
	rt.Handle("GET /api/v1/orgs/{org}/webhooks/{id}", onWebhook(s.getWebhook))
	rt.Handle("PATCH /api/v1/orgs/{org}/webhooks/{id}", onWebhook(s.patchWebhook))
	rt.Handle("DELETE /api/v1/orgs/{org}/webhooks/{id}", onWebhook(s.deleteWebhook))
	rt.Handle("POST /api/v1/orgs/{org}/webhooks/{id}/rotate-secret", onWebhook(s.rotateWebhookSecret))
	rt.Handle("POST /api/v1/orgs/{org}/webhooks/{id}/test", onWebhook(s.testWebhook))
	rt.Handle("GET /api/v1/orgs/{org}/webhooks/{id}/deliveries", onWebhook(s.webhookDeliveries))
}

// webhookHandler is a route on one webhook: it gets the {org} and {id}
// of the path and returns its failure (answered by onWebhook).
type webhookHandler func(w http.ResponseWriter, r *http.Request, rq *httpapi.Request, org, id string) error

// onWebhook reads the path's ids for h and answers its error.
func onWebhook(h webhookHandler) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
		org, err := httpapi.PathID(r, "org")
		if err != nil {
			httpapi.Fail(w, r, err)
			return
		}
		id, err := httpapi.PathID(r, "id")
		if err == nil {
			err = h(w, r, rq, org, id)
		}
		if err != nil {
			failWebhooks(w, r, err)
		}
	}
}

// webhookReq is a webhook as created or patched; absent fields are left
// as they are.
type webhookReq struct {
	URL         *string   `json:"url"`
	Description *string   `json:"description"`
	Types       *[]string `json:"types"`
	Cameras     *[]string `json:"cameras"`
	Enabled     *bool     `json:"enabled"`
}

func (q webhookReq) settings() webhooks.Settings {
	return webhooks.Settings{URL: q.URL, Description: q.Description, Types: q.Types, Cameras: q.Cameras, Enabled: q.Enabled}
}

type webhookWire struct {
	ID             string       `json:"id"`
	OrgID          string       `json:"org_id"`
	URL            string       `json:"url"`
	Description    string       `json:"description"`
	Types          []string     `json:"types"`
	Cameras        []string     `json:"cameras"`
	Enabled        bool         `json:"enabled"`
	DisabledReason string       `json:"disabled_reason,omitempty"`
	DisabledAt     *time.Time   `json:"disabled_at,omitempty"`
	CreatedBy      string       `json:"created_by"`
	CreatedAt      time.Time    `json:"created_at"`
	UpdatedAt      time.Time    `json:"updated_at"`
	Streams        []streamWire `json:"streams,omitempty"`
	// Secret is set in the answers of creation and rotation only.
	Secret string `json:"secret,omitempty"`
}

type streamWire struct {
	Zone         string     `json:"zone"`
	Seq          int64      `json:"seq"`
	Backlog      int64      `json:"backlog"`
	Node         string     `json:"node,omitempty"`
	Attempts     int        `json:"attempts"`
	FailingSince *time.Time `json:"failing_since,omitempty"`
	NextAttempt  *time.Time `json:"next_attempt,omitempty"`
}

// optTime is t, or nil for the zero time (omitted).
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func webhookJSON(w webhooks.Webhook) webhookWire {
	out := webhookWire{ID: w.ID, OrgID: w.OrgID, URL: w.URL, Description: w.Description, Types: httpapi.NonNil(w.Types),
		Cameras: httpapi.NonNil(w.Cameras), Enabled: w.Enabled, DisabledReason: w.DisabledReason, DisabledAt: optTime(w.DisabledAt),
		CreatedBy: w.CreatedBy, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
	for _, st := range w.Streams {
		out.Streams = append(out.Streams, streamWire{Zone: st.Zone, Seq: st.Seq, Backlog: st.Backlog, Node: st.Node, Attempts: st.Attempts,
			FailingSince: optTime(st.FailingSince), NextAttempt: optTime(st.NextAttempt)})
	}
	return out
}

type deliveryWire struct {
	ID         string    `json:"id"`
	EventID    string    `json:"event_id"`
	EventType  string    `json:"event_type"`
	Zone       string    `json:"zone,omitempty"`
	Seq        int64     `json:"seq"`
	Attempt    int       `json:"attempt"`
	Status     int       `json:"status"`
	OK         bool      `json:"ok"`
	DurationMS float64   `json:"duration_ms"`
	LagMS      float64   `json:"lag_ms,omitempty"`
	Error      string    `json:"error,omitempty"`
	At         time.Time `json:"at"`
	Node       string    `json:"node"`
}

func deliveryJSON(d store.WebhookDelivery) deliveryWire {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return deliveryWire{ID: d.ID, EventID: d.EventID, EventType: d.EventType, Zone: d.Zone, Seq: d.Seq, Attempt: d.Attempt, Status: d.Status,
		OK: d.Status >= 200 && d.Status < 300, DurationMS: ms(d.Duration), LagMS: ms(d.Lag), Error: d.Error, At: d.At, Node: d.Node}
}

// failWebhooks answers the webhook service's refusals: bad settings 400,
// the organisation's limit 409, the rest as httpapi maps them.
func failWebhooks(w http.ResponseWriter, r *http.Request, err error) {
	var ie *webhooks.InputError
	switch {
	case errors.As(err, &ie):
		httpapi.Fail(w, r, httpapi.BadRequest("%s", ie.Msg))
	case errors.Is(err, store.ErrLimit):
		httpapi.Fail(w, r, httpapi.Errorf(http.StatusConflict, "limit", "an organisation has at most %d webhooks", store.MaxWebhooksPerOrg))
	default:
		httpapi.Fail(w, r, err)
	}
}

// webhookDetail is what the audit keeps of a webhook's settings: the
// URL without its query (which may hold a token) and the filters.
func webhookDetail(w webhooks.Webhook) string {
	return fmt.Sprintf("url=%s types=%s cameras=%s enabled=%t", webhooks.DisplayURL(w.URL), strings.Join(w.Types, ","),
		strings.Join(w.Cameras, ","), w.Enabled)
}

func (s *server) createWebhook(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	org, err := httpapi.PathID(r, "org")
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	var req webhookReq
	if err := httpapi.Decode(w, r, &req); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	wh, secret, err := s.Webhooks.Create(r.Context(), rq.P, org, req.settings())
	if err != nil {
		failWebhooks(w, r, err)
		return
	}
	httpapi.Record(r, rq, "webhook.create", "webhook:"+wh.ID, org, "", webhookDetail(wh))
	out := webhookJSON(wh)
	out.Secret = secret
	httpapi.WriteJSON(w, http.StatusCreated, out)
}

func (s *server) listWebhooks(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	org, err := httpapi.PathID(r, "org")
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	list, err := s.Webhooks.List(r.Context(), rq.P, org)
	if err != nil {
		failWebhooks(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"webhooks": httpapi.NonNil(listJSON(list, webhookJSON))})
}

func (s *server) getWebhook(w http.ResponseWriter, r *http.Request, rq *httpapi.Request, org, id string) error {
	wh, err := s.Webhooks.Get(r.Context(), rq.P, org, id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, webhookJSON(wh))
	return nil
}

func (s *server) patchWebhook(w http.ResponseWriter, r *http.Request, rq *httpapi.Request, org, id string) error {
	var req webhookReq
	if err := httpapi.Decode(w, r, &req); err != nil {
		return err
	}
	before, after, err := s.Webhooks.Update(r.Context(), rq.P, org, id, req.settings())
	if err != nil {
		return err
	}
	httpapi.Record(r, rq, "webhook.update", "webhook:"+id, org, "", webhookDetail(before)+" -> "+webhookDetail(after))
	httpapi.WriteJSON(w, http.StatusOK, webhookJSON(after))
	return nil
}

func (s *server) deleteWebhook(w http.ResponseWriter, r *http.Request, rq *httpapi.Request, org, id string) error {
	wh, err := s.Webhooks.Delete(r.Context(), rq.P, org, id)
	if err != nil {
		return err
	}
	httpapi.Record(r, rq, "webhook.delete", "webhook:"+id, org, "", webhookDetail(wh))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *server) rotateWebhookSecret(w http.ResponseWriter, r *http.Request, rq *httpapi.Request, org, id string) error {
	wh, secret, err := s.Webhooks.RotateSecret(r.Context(), rq.P, org, id)
	if err != nil {
		return err
	}
	httpapi.Record(r, rq, "webhook.rotate_secret", "webhook:"+id, org, "", "")
	out := webhookJSON(wh)
	out.Secret = secret
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (s *server) testWebhook(w http.ResponseWriter, r *http.Request, rq *httpapi.Request, org, id string) error {
	d, err := s.Webhooks.Test(r.Context(), rq.P, org, id)
	if err != nil {
		return err
	}
	httpapi.Record(r, rq, "webhook.test", "webhook:"+id, org, "", "status="+strconv.Itoa(d.Status))
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"delivery": deliveryJSON(d)})
	return nil
}

func (s *server) webhookDeliveries(w http.ResponseWriter, r *http.Request, rq *httpapi.Request, org, id string) error {
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		var err error
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > webhooks.MaxDeliveries {
			return httpapi.BadRequest("limit must be 1 to %d", webhooks.MaxDeliveries)
		}
	}
	page, err := s.Webhooks.Deliveries(r.Context(), rq.P, org, id, r.URL.Query().Get("cursor"), limit)
	if err != nil {
		return err
	}
	out := map[string]any{"deliveries": httpapi.NonNil(listJSON(page.Deliveries, deliveryJSON))}
	if page.Next != "" {
		out["next_cursor"] = page.Next
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}
