package store

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// newHook returns a valid webhook of orgID numbered n.
func newHook(orgID string, n int) Webhook {
	return Webhook{ID: fmt.Sprintf("%032x", n+1), OrgID: orgID, URL: fmt.Sprintf("https://hooks.example/%d", n), Secret: "enc:v1:x",
		Types: []string{"camera.offline", "motion"}, Cameras: []string{"cam1"}, Enabled: true, CreatedBy: "u1", CreatedAt: t0, UpdatedAt: t0}
}

func TestWebhookCRUD(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		d, ctx := openDir(t, dsn), ctxT(t)
		must(t, d.CreateOrg(ctx, Org{ID: "o1", Name: "one", CreatedAt: t0}))
		must(t, d.CreateOrg(ctx, Org{ID: "o2", Name: "two", CreatedAt: t0}))
		w := newHook("o1", 0)
		must(t, d.CreateWebhook(ctx, w, []WebhookCursor{{Zone: "za", Seq: 7}, {Zone: "zb", Seq: 0}}))
		got, err := d.GetWebhook(ctx, w.ID)
		must(t, err)
		if got.URL != w.URL || len(got.Types) != 2 || got.Cameras[0] != "cam1" || !got.Enabled || !got.CreatedAt.Equal(t0) {
			t.Fatalf("got %+v", got)
		}
		for i := 1; i < MaxWebhooksPerOrg; i++ {
			must(t, d.CreateWebhook(ctx, newHook("o1", i), nil))
		}
		wantErr(t, d.CreateWebhook(ctx, newHook("o1", MaxWebhooksPerOrg), nil), ErrLimit)
		must(t, d.CreateWebhook(ctx, newHook("o2", MaxWebhooksPerOrg+1), nil))
		wantErr(t, d.CreateWebhook(ctx, newHook("nope", MaxWebhooksPerOrg+2), nil), ErrNotFound)
		bad := newHook("o2", 99)
		bad.Types = []string{"a,b"}
		if err := d.CreateWebhook(ctx, bad, nil); err == nil {
			t.Fatal("a type with a comma was stored")
		}
		list, err := d.ListWebhooks(ctx, "o1")
		must(t, err)
		all, err := d.ListWebhooks(ctx, "")
		must(t, err)
		if len(list) != MaxWebhooksPerOrg || len(all) != MaxWebhooksPerOrg+1 {
			t.Fatalf("listed %d and %d", len(list), len(all))
		}

		cs, err := d.ListWebhookCursors(ctx, w.ID)
		must(t, err)
		if len(cs) != 2 || cs[0].Zone != "za" || cs[0].Seq != 7 {
			t.Fatalf("cursors %+v", cs)
		}
		must(t, d.AddWebhookCursor(ctx, WebhookCursor{WebhookID: w.ID, Zone: "za", Seq: 99})) // exists: left alone
		must(t, d.AddWebhookCursor(ctx, WebhookCursor{WebhookID: w.ID, Zone: "zc", Seq: 3}))
		cs, _ = d.ListWebhookCursors(ctx, w.ID)
		if len(cs) != 3 || cs[0].Seq != 7 || cs[2].Seq != 3 {
			t.Fatalf("cursors %+v", cs)
		}

		// Disable, then modify: turning it on resets the cursors to the heads.
		ok, err := d.DisableWebhook(ctx, w.ID, "failing", t0.Add(time.Hour))
		must(t, err)
		if !ok {
			t.Fatal("not disabled")
		}
		if ok, _ := d.DisableWebhook(ctx, w.ID, "again", t0); ok {
			t.Fatal("disabled twice")
		}
		got, _ = d.GetWebhook(ctx, w.ID)
		if got.Enabled || got.DisabledReason != "failing" || !got.DisabledAt.Equal(t0.Add(time.Hour).UTC().Truncate(time.Microsecond)) {
			t.Fatalf("disabled %+v", got)
		}
		before, after, err := d.ModifyWebhook(ctx, w.ID, map[string]int64{"za": 50, "zb": 60}, func(w *Webhook) error {
			w.Enabled, w.DisabledReason, w.URL = true, "", "https://other.example/"
			return nil
		})
		must(t, err)
		if before.Enabled || !after.Enabled || after.URL != "https://other.example/" {
			t.Fatalf("modify %+v -> %+v", before, after)
		}
		cs, _ = d.ListWebhookCursors(ctx, w.ID)
		seqs := map[string]int64{}
		for _, c := range cs {
			seqs[c.Zone] = c.Seq
		}
		if seqs["za"] != 50 || seqs["zb"] != 60 || seqs["zc"] != 3 {
			t.Fatalf("cursors after enabling %v", seqs)
		}
		if _, _, err := d.ModifyWebhook(ctx, w.ID, nil, func(w *Webhook) error { w.OrgID = "o2"; return nil }); err == nil {
			t.Fatal("moved to another organisation")
		}
		_, _, err = d.ModifyWebhook(ctx, "missing", nil, func(*Webhook) error { return nil })
		wantErr(t, err, ErrNotFound)

		must(t, d.AddWebhookDeliveries(ctx, []WebhookDelivery{{WebhookID: w.ID, ID: "d1", EventType: "webhook.test", At: t0}}))
		must(t, d.DeleteWebhook(ctx, w.ID))
		wantErr(t, d.DeleteWebhook(ctx, w.ID), ErrNotFound)
		if cs, _ := d.ListWebhookCursors(ctx, w.ID); len(cs) != 0 {
			t.Fatalf("cursors left: %+v", cs)
		}
		if ds, _ := d.ListWebhookDeliveries(ctx, w.ID, nil, 10); len(ds) != 0 {
			t.Fatalf("deliveries left: %+v", ds)
		}
	})
}

func TestWebhookLeases(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		d, ctx := openDir(t, dsn), ctxT(t)
		must(t, d.CreateOrg(ctx, Org{ID: "o1", Name: "one", CreatedAt: t0}))
		w := newHook("o1", 0)
		must(t, d.CreateWebhook(ctx, w, []WebhookCursor{{Zone: "za", Seq: 10}}))
		now := t0
		// Nodes racing for a free cursor: exactly one wins.
		var mu sync.Mutex
		winners := 0
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, ok, err := d.ClaimWebhookCursor(ctx, w.ID, "za", fmt.Sprintf("node%d", i), now.Add(15*time.Second), now)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					winners++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if winners != 1 {
			t.Fatalf("%d nodes hold the lease", winners)
		}
		cs, _ := d.ListWebhookCursors(ctx, w.ID)
		owner := cs[0].LeaseOwner
		other := "node-x"
		if _, ok, _ := d.ClaimWebhookCursor(ctx, w.ID, "za", other, now.Add(20*time.Second), now.Add(5*time.Second)); ok {
			t.Fatal("claimed a held lease")
		}
		c, ok, err := d.ClaimWebhookCursor(ctx, w.ID, "za", owner, now.Add(20*time.Second), now.Add(5*time.Second))
		must(t, err)
		if !ok || c.Seq != 10 || c.LeaseOwner != owner {
			t.Fatalf("renewal: %+v %v", c, ok)
		}
		// The holder saves its progress and log; another node cannot.
		c.Seq, c.Attempts, c.FailingSince, c.NextAttempt = 12, 2, now, now.Add(2*time.Second)
		log := []WebhookDelivery{{WebhookID: w.ID, ID: "a", EventID: "e1", EventType: "motion", Zone: "za", Seq: 11, Attempt: 1, Status: 500,
			Duration: 1500 * time.Microsecond, Error: "HTTP 500", At: now, Node: owner}}
		must(t, d.SaveWebhookCursor(ctx, c, owner, now.Add(30*time.Second), log))
		wantErr(t, d.SaveWebhookCursor(ctx, c, other, now.Add(30*time.Second), log), ErrNotFound)
		cs, _ = d.ListWebhookCursors(ctx, w.ID)
		if cs[0].Seq != 12 || cs[0].Attempts != 2 || !cs[0].FailingSince.Equal(now.UTC().Truncate(time.Microsecond)) {
			t.Fatalf("saved %+v", cs[0])
		}
		// Expired: another node takes it over from the saved position.
		c2, ok, err := d.ClaimWebhookCursor(ctx, w.ID, "za", other, now.Add(60*time.Second), now.Add(31*time.Second))
		must(t, err)
		if !ok || c2.Seq != 12 || c2.Attempts != 2 {
			t.Fatalf("take-over: %+v %v", c2, ok)
		}
		wantErr(t, d.SaveWebhookCursor(ctx, c, owner, now.Add(90*time.Second), nil), ErrNotFound)
		must(t, d.ReleaseWebhookCursor(ctx, w.ID, "za", other))
		if _, ok, _ := d.ClaimWebhookCursor(ctx, w.ID, "za", owner, now.Add(40*time.Second), now.Add(32*time.Second)); !ok {
			t.Fatal("a released lease was not free")
		}
		// A disabled webhook's cursor is neither claimed nor saved.
		if _, err := d.DisableWebhook(ctx, w.ID, "off", now); err != nil {
			t.Fatal(err)
		}
		wantErr(t, d.SaveWebhookCursor(ctx, c, owner, now.Add(90*time.Second), nil), ErrNotFound)
		if _, ok, _ := d.ClaimWebhookCursor(ctx, w.ID, "za", owner, now.Add(90*time.Second), now.Add(33*time.Second)); ok {
			t.Fatal("claimed a disabled webhook's cursor")
		}
		ds, err := d.ListWebhookDeliveries(ctx, w.ID, nil, 10)
		must(t, err)
		if len(ds) != 1 || ds[0].Status != 500 || ds[0].Duration != 1500*time.Microsecond || ds[0].Node != owner {
			t.Fatalf("log %+v", ds)
		}
	})
}

func TestWebhookDeliveryLog(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		d, ctx := openDir(t, dsn), ctxT(t)
		must(t, d.CreateOrg(ctx, Org{ID: "o1", Name: "one", CreatedAt: t0}))
		w := newHook("o1", 0)
		must(t, d.CreateWebhook(ctx, w, nil))
		var log []WebhookDelivery
		for i := range 250 {
			log = append(log, WebhookDelivery{WebhookID: w.ID, ID: fmt.Sprintf("d%03d", i), EventID: "e", EventType: "motion", Zone: "za",
				Seq: int64(i), Attempt: 1, Status: 200, At: t0.Add(time.Duration(i/2) * time.Millisecond)})
		}
		must(t, d.AddWebhookDeliveries(ctx, log))
		var seen []WebhookDelivery
		var before *WebhookDelivery
		for {
			page, err := d.ListWebhookDeliveries(ctx, w.ID, before, 40)
			must(t, err)
			seen = append(seen, page...)
			if len(page) < 40 {
				break
			}
			before = &page[len(page)-1]
		}
		if len(seen) != 250 || seen[0].ID != "d249" || seen[249].ID != "d000" {
			t.Fatalf("paged %d, first %s", len(seen), seen[0].ID)
		}
		n, err := d.TrimWebhookDeliveries(ctx, w.ID, 100)
		must(t, err)
		left, _ := d.ListWebhookDeliveries(ctx, w.ID, nil, 1000)
		if n != 150 || len(left) != 100 || left[99].ID != "d150" {
			t.Fatalf("trimmed %d, left %d", n, len(left))
		}
		if n, _ := d.TrimWebhookDeliveries(ctx, w.ID, 500); n != 0 {
			t.Fatalf("trimmed %d below the bound", n)
		}
	})
}

// TestWebhookChangesAndClaimableCursors: what an api node reads between
// full listings: the webhooks changed since an instant (created, modified,
// disabled), and the cursors it may claim (free or expired, of enabled
// webhooks).
func TestWebhookChangesAndClaimableCursors(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		d, ctx := openDir(t, dsn), ctxT(t)
		must(t, d.CreateOrg(ctx, Org{ID: "o1", Name: "one", CreatedAt: t0}))
		a, b := newHook("o1", 0), newHook("o1", 1)
		must(t, d.CreateWebhook(ctx, a, []WebhookCursor{{Zone: "za"}, {Zone: "zb"}}))
		must(t, d.CreateWebhook(ctx, b, []WebhookCursor{{Zone: "za"}}))
		ids := func(ws []Webhook) (out []string) {
			for _, w := range ws {
				out = append(out, w.ID)
			}
			return out
		}
		changed, err := d.ListWebhooksChangedSince(ctx, t0.Add(time.Second), 10)
		must(t, err)
		if len(changed) != 0 {
			t.Fatalf("changed since after their creation: %v", ids(changed))
		}
		_, _, err = d.ModifyWebhook(ctx, b.ID, nil, func(w *Webhook) error {
			w.URL, w.UpdatedAt = "https://hooks.example/new", t0.Add(2*time.Second)
			return nil
		})
		must(t, err)
		_, err = d.DisableWebhook(ctx, a.ID, "off", t0.Add(3*time.Second))
		must(t, err)
		changed, err = d.ListWebhooksChangedSince(ctx, t0.Add(time.Second), 10)
		must(t, err)
		if got := ids(changed); len(got) != 2 || got[0] != b.ID || got[1] != a.ID || changed[0].URL != "https://hooks.example/new" || changed[1].Enabled {
			t.Fatalf("changed since: %+v, want b (new URL) then a (disabled)", changed)
		}
		if changed, _ = d.ListWebhooksChangedSince(ctx, t0.Add(time.Second), 1); len(changed) != 1 {
			t.Fatalf("limit 1: %d rows", len(changed))
		}
		// a is disabled: only b's cursor may be claimed; once claimed, not
		// until its lease expires.
		claimable := func(now time.Time) int {
			cs, err := d.ListClaimableWebhookCursors(ctx, now, 10)
			must(t, err)
			for _, c := range cs {
				if c.WebhookID != b.ID {
					t.Errorf("claimable: %+v, of a disabled webhook", c)
				}
			}
			return len(cs)
		}
		if n := claimable(t0); n != 1 {
			t.Fatalf("%d claimable cursors, want 1", n)
		}
		if _, ok, err := d.ClaimWebhookCursor(ctx, b.ID, "za", "node1", t0.Add(15*time.Second), t0); !ok || err != nil {
			t.Fatalf("claim: %v %v", ok, err)
		}
		if n := claimable(t0.Add(10 * time.Second)); n != 0 {
			t.Fatalf("%d claimable cursors while the lease runs, want 0", n)
		}
		if n := claimable(t0.Add(15 * time.Second)); n != 1 {
			t.Fatalf("%d claimable cursors after the lease, want 1", n)
		}
	})
}
