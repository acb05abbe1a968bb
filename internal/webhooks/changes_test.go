package webhooks_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/camcloud/camcloud/internal/testenv"
	"github.com/camcloud/camcloud/internal/webhooks"
)

// scans reads camcloud_webhooks_scans_total{kind} from reg.
func scans(t *testing.T, reg *prometheus.Registry, kind string) float64 {
	t.Helper()
	return testenv.GatheredValue(t, reg, "camcloud_webhooks_scans_total", map[string]string{"kind": kind})
}

// TestChangesSeenAcrossNodes: two services on one directory; b takes the
// settings (as the api node a user talks to), a delivers. A webhook
// created on b, its URL changed on b, and it turned off on b are each seen
// by a from its incremental reads alone (its full listing is an hour
// away): a delivers to the new webhook, then to the new URL only, then
// stops.
func TestChangesSeenAcrossNodes(t *testing.T) {
	f := newFixture(t)
	r1, r2 := newReceiver(t), newReceiver(t)
	reg := prometheus.NewRegistry()
	ca := f.config("node-a")
	ca.FullScanInterval, ca.Registerer = time.Hour, reg
	cb := f.config("node-b")
	cb.FullScanInterval = time.Hour
	a, b := f.service(ca), f.service(cb)
	f.run(a)
	testenv.Eventually(t, 5*time.Second, "node a's first (full) scan", func() bool { return scans(t, reg, "full") == 1 })
	ctx := ctxT(t)

	w := f.create(b, r1, webhooks.Settings{})
	r2.SetSecret(f.secret)
	f.record(f.a1, 1)
	got := waitFor(t, r1, 1, 10*time.Second)
	if got[0].Header.Get("Camcloud-Webhook-Id") != w.ID {
		t.Fatalf("delivery of webhook %q, want %q", got[0].Header.Get("Camcloud-Webhook-Id"), w.ID)
	}
	if g, _ := b.Get(ctx, f.owner, "org-a", w.ID); len(g.Streams) != 1 || g.Streams[0].Node != "node-a" {
		t.Fatalf("streams %+v, want node-a delivering", g.Streams)
	}

	if _, _, err := b.Update(ctx, f.owner, "org-a", w.ID, webhooks.Settings{URL: &r2.URL}); err != nil {
		t.Fatal(err)
	}
	// Events until one reaches the new URL: a delivers what it recorded
	// before it saw the change to the old one.
	for i := 2; len(r2.Accepted()) == 0; i++ {
		if i > 200 {
			t.Fatal("node a never delivered to the URL changed on node b")
		}
		f.record(f.a1, i)
		time.Sleep(50 * time.Millisecond)
	}
	n1 := len(r1.Accepted())
	f.record(f.a1, 1000)
	r2.WaitAccepted(t, len(r2.Accepted())+1, 10*time.Second)
	if n := len(r1.Accepted()); n != n1 {
		t.Errorf("the old URL got %d more deliveries after the new one got its first", n-n1)
	}

	off := false
	if _, _, err := b.Update(ctx, f.owner, "org-a", w.ID, webhooks.Settings{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "node a stops delivering the webhook turned off on node b", func() bool {
		g, _ := a.Get(ctx, f.owner, "org-a", w.ID)
		return len(g.Streams) == 0 || g.Streams[0].Node == ""
	})
	if full, changes := scans(t, reg, "full"), scans(t, reg, "changes"); full != 1 || changes == 0 {
		t.Errorf("node a scanned %v times in full and %v times for changes, want 1 and more", full, changes)
	}
}
