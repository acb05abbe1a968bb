package webhooks

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/events"
	"github.com/camcloud/camcloud/internal/names"
	"github.com/camcloud/camcloud/internal/store"
)

// TypeAnyCustom in a type filter matches every custom event type.
const TypeAnyCustom = "custom.*"

// maxDescription bounds a webhook's description in characters.
const maxDescription = 200

// Webhook is a webhook as the API shows it (never its secret).
type Webhook struct {
	ID          string
	OrgID       string
	URL         string
	Description string
	// Types and Cameras filter what is delivered; empty: everything.
	Types          []string
	Cameras        []string
	Enabled        bool
	DisabledReason string
	DisabledAt     time.Time
	CreatedBy      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	// Streams is the delivery state per zone (filled by Get).
	Streams []Stream
}

// Stream is how far a webhook's delivery of one zone's events has got.
type Stream struct {
	Zone string
	// Seq is the zone log's position delivered up to; Backlog how many
	// of the zone's events (of any organisation) lie beyond it.
	Seq     int64
	Backlog int64
	// Node is the api node delivering it now ("" when none holds it).
	Node string
	// Attempts counts failed rounds since the last success; FailingSince
	// is when they began and NextAttempt when the next is due.
	Attempts     int
	FailingSince time.Time
	NextAttempt  time.Time
}

// Settings are the fields a webhook is created or changed with; nil
// fields are left as they are (URL is required at creation; Enabled
// defaults to true).
type Settings struct {
	URL         *string
	Description *string
	Types       *[]string
	Cameras     *[]string
	Enabled     *bool
}

func fromRow(w store.Webhook) Webhook {
	return Webhook{ID: w.ID, OrgID: w.OrgID, URL: w.URL, Description: w.Description, Types: w.Types, Cameras: w.Cameras,
		Enabled: w.Enabled, DisabledReason: w.DisabledReason, DisabledAt: w.DisabledAt, CreatedBy: w.CreatedBy,
		CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
}

// secretContext binds a sealed secret to its webhook.
func secretContext(id string) string { return "webhook:" + id }

// checked is a validated Settings.
type checked struct {
	url, description *string
	types, cameras   *[]string
}

// check validates the fields in of a webhook of orgID.
func (s *Service) check(ctx context.Context, orgID string, in Settings) (checked, error) {
	var out checked
	if in.URL != nil {
		u, err := s.checkURL(ctx, *in.URL)
		if err != nil {
			return out, err
		}
		out.url = &u
	}
	if in.Description != nil {
		d := strings.TrimSpace(*in.Description)
		if d != "" {
			var err error
			if d, err = names.Check("description", d, maxDescription); err != nil {
				return out, invalid("%s", err.Error())
			}
		}
		out.description = &d
	}
	if in.Types != nil {
		t, err := checkTypes(*in.Types)
		if err != nil {
			return out, err
		}
		out.types = &t
	}
	if in.Cameras != nil {
		c, err := s.checkCameras(ctx, orgID, *in.Cameras)
		if err != nil {
			return out, err
		}
		out.cameras = &c
	}
	return out, nil
}

// checkTypes validates a type filter: known types, "custom.NAME" or
// TypeAnyCustom, at most MaxWebhookTypes; duplicates dropped.
func checkTypes(in []string) ([]string, error) {
	if len(in) > store.MaxWebhookTypes {
		return nil, invalid("types: at most %d", store.MaxWebhookTypes)
	}
	out := []string{}
	for _, t := range in {
		if t != TypeAnyCustom && !events.ValidType(t) {
			return nil, invalid("types: unknown event type %q", t)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// checkCameras validates a camera filter: cameras of orgID, at most
// MaxWebhookCameras; duplicates dropped.
func (s *Service) checkCameras(ctx context.Context, orgID string, in []string) ([]string, error) {
	if len(in) > store.MaxWebhookCameras {
		return nil, invalid("cameras: at most %d", store.MaxWebhookCameras)
	}
	out := []string{}
	if len(in) == 0 {
		return out, nil
	}
	cams, err := s.c.Dir.ListCameras(ctx, []string{orgID})
	if err != nil {
		return nil, err
	}
	for _, id := range in {
		if !slices.ContainsFunc(cams, func(c store.Camera) bool { return c.ID == id }) {
			return nil, invalid("cameras: %q is not a camera of this organisation", id)
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// heads returns the current position of every zone's log.
func (s *Service) heads(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	for _, zn := range s.c.Events.Zones() {
		h, err := s.c.Events.Head(ctx, zn)
		if err != nil {
			return nil, err
		}
		out[zn] = h
	}
	return out, nil
}

// Create adds a webhook to orgID for p (authz.ManageWebhooks) and returns
// it with its signing secret, which is shown this once. It delivers the
// events recorded from now on. *InputError for bad settings;
// store.ErrLimit when the organisation has MaxWebhooksPerOrg already.
func (s *Service) Create(ctx context.Context, p *authz.Principal, orgID string, in Settings) (Webhook, string, error) {
	if err := authz.ManageWebhooks(p, orgID); err != nil {
		return Webhook{}, "", err
	}
	if in.URL == nil {
		return Webhook{}, "", invalid("url is required")
	}
	ck, err := s.check(ctx, orgID, in)
	if err != nil {
		return Webhook{}, "", err
	}
	heads, err := s.heads(ctx)
	if err != nil {
		return Webhook{}, "", err
	}
	now := s.c.Now().UTC().Truncate(time.Microsecond)
	w := store.Webhook{ID: newID(), OrgID: orgID, URL: *ck.url, Enabled: in.Enabled == nil || *in.Enabled, CreatedBy: p.UserID,
		CreatedAt: now, UpdatedAt: now}
	ck.apply(&w)
	if !w.Enabled {
		w.DisabledReason, w.DisabledAt = "created disabled", now
	}
	secret := newSecret()
	if w.Secret, err = s.box.Seal(secret, secretContext(w.ID)); err != nil {
		return Webhook{}, "", err
	}
	var cursors []store.WebhookCursor
	for zn, h := range heads {
		cursors = append(cursors, store.WebhookCursor{Zone: zn, Seq: h})
	}
	if err := s.c.Dir.CreateWebhook(ctx, w, cursors); err != nil {
		return Webhook{}, "", err
	}
	return fromRow(w), secret, nil
}

// apply sets the checked fields on w.
func (ck checked) apply(w *store.Webhook) {
	if ck.url != nil {
		w.URL = *ck.url
	}
	if ck.description != nil {
		w.Description = *ck.description
	}
	if ck.types != nil {
		w.Types = *ck.types
	}
	if ck.cameras != nil {
		w.Cameras = *ck.cameras
	}
}

// List returns orgID's webhooks for p.
func (s *Service) List(ctx context.Context, p *authz.Principal, orgID string) ([]Webhook, error) {
	if err := authz.ManageWebhooks(p, orgID); err != nil {
		return nil, err
	}
	rows, err := s.c.Dir.ListWebhooks(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out := make([]Webhook, len(rows))
	for i, w := range rows {
		out[i] = fromRow(w)
	}
	return out, nil
}

// load returns webhook id of orgID for p; another organisation's is not
// found.
func (s *Service) load(ctx context.Context, p *authz.Principal, orgID, id string) (store.Webhook, error) {
	if err := authz.ManageWebhooks(p, orgID); err != nil {
		return store.Webhook{}, err
	}
	w, err := s.c.Dir.GetWebhook(ctx, id)
	if err != nil {
		return store.Webhook{}, err
	}
	if w.OrgID != orgID {
		return store.Webhook{}, store.ErrNotFound
	}
	return w, nil
}

// Get returns webhook id of orgID with its delivery state per zone.
func (s *Service) Get(ctx context.Context, p *authz.Principal, orgID, id string) (Webhook, error) {
	w, err := s.load(ctx, p, orgID, id)
	if err != nil {
		return Webhook{}, err
	}
	cursors, err := s.c.Dir.ListWebhookCursors(ctx, id)
	if err != nil {
		return Webhook{}, err
	}
	heads, err := s.heads(ctx)
	if err != nil {
		return Webhook{}, err
	}
	out := fromRow(w)
	now := s.c.Now()
	out.Streams = []Stream{}
	for _, c := range cursors {
		st := Stream{Zone: c.Zone, Seq: c.Seq, Backlog: max(0, heads[c.Zone]-c.Seq), Attempts: c.Attempts,
			FailingSince: c.FailingSince, NextAttempt: c.NextAttempt}
		if c.LeaseUntil.After(now) {
			st.Node = c.LeaseOwner
		}
		out.Streams = append(out.Streams, st)
	}
	return out, nil
}

// Update changes webhook id of orgID for p and returns it before and
// after. Turning it on again delivers the events recorded from then on
// (not those of while it was off); turning it off stops its delivery
// within a scan interval.
func (s *Service) Update(ctx context.Context, p *authz.Principal, orgID, id string, in Settings) (before, after Webhook, err error) {
	if _, err := s.load(ctx, p, orgID, id); err != nil {
		return Webhook{}, Webhook{}, err
	}
	ck, err := s.check(ctx, orgID, in)
	if err != nil {
		return Webhook{}, Webhook{}, err
	}
	var heads map[string]int64
	if in.Enabled != nil && *in.Enabled {
		if heads, err = s.heads(ctx); err != nil {
			return Webhook{}, Webhook{}, err
		}
	}
	now := s.c.Now().UTC().Truncate(time.Microsecond)
	b, a, err := s.c.Dir.ModifyWebhook(ctx, id, heads, func(w *store.Webhook) error {
		ck.apply(w)
		if in.Enabled != nil && *in.Enabled != w.Enabled {
			w.Enabled = *in.Enabled
			w.DisabledReason, w.DisabledAt = "", time.Time{}
			if !w.Enabled {
				w.DisabledReason, w.DisabledAt = "turned off by a user", now
			}
		}
		w.UpdatedAt = now
		return nil
	})
	if err != nil {
		return Webhook{}, Webhook{}, err
	}
	return fromRow(b), fromRow(a), nil
}

// Delete deletes webhook id of orgID for p, with its delivery log.
func (s *Service) Delete(ctx context.Context, p *authz.Principal, orgID, id string) (Webhook, error) {
	w, err := s.load(ctx, p, orgID, id)
	if err != nil {
		return Webhook{}, err
	}
	return fromRow(w), s.c.Dir.DeleteWebhook(ctx, id)
}

// RotateSecret gives webhook id of orgID a new signing secret and returns
// it (shown this once). The old one still signs, beside it, for
// Config.SecretGrace, so that receivers can switch over.
func (s *Service) RotateSecret(ctx context.Context, p *authz.Principal, orgID, id string) (Webhook, string, error) {
	if _, err := s.load(ctx, p, orgID, id); err != nil {
		return Webhook{}, "", err
	}
	secret := newSecret()
	sealed, err := s.box.Seal(secret, secretContext(id))
	if err != nil {
		return Webhook{}, "", err
	}
	now := s.c.Now().UTC().Truncate(time.Microsecond)
	_, a, err := s.c.Dir.ModifyWebhook(ctx, id, nil, func(w *store.Webhook) error {
		w.PrevSecret, w.PrevSecretUntil, w.Secret, w.UpdatedAt = w.Secret, now.Add(s.c.SecretGrace), sealed, now
		return nil
	})
	if err != nil {
		return Webhook{}, "", err
	}
	return fromRow(a), secret, nil
}

// secrets opens the secrets w signs with now: its secret, and the
// rotated-out one while in its grace.
func (s *Service) secrets(w store.Webhook, now time.Time) ([]string, error) {
	cur, err := s.box.Open(w.Secret, secretContext(w.ID))
	if err != nil {
		return nil, err
	}
	out := []string{cur}
	if w.PrevSecret != "" && now.Before(w.PrevSecretUntil) {
		if prev, err := s.box.Open(w.PrevSecret, secretContext(w.ID)); err == nil {
			out = append(out, prev)
		}
	}
	return out, nil
}
