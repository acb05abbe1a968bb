package webhooks_test

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/events"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/testenv"
	"github.com/camcloud/camcloud/internal/webhooks"
)

// TestDeliverySignedInOrder: every event of the organisation arrives,
// signed, each camera's in order, none of another organisation's; a
// ranged event arrives opened and again ended; the log and the stream
// state say so.
func TestDeliverySignedInOrder(t *testing.T) {
	f := newFixture(t)
	r := newReceiver(t)
	s := f.service(f.config("node-a"))
	w := f.create(s, r, webhooks.Settings{})
	f.run(s)
	ctx := ctxT(t)
	for i := range 30 {
		f.record([]store.Camera{f.a1, f.a2}[i%2], i)
		if i%10 == 0 {
			f.record(f.b1, i) // another organisation's: never sent
		}
	}
	id, err := f.ev.Open(ctx, events.Event{CameraID: f.a1.ID, Type: events.TypeMotion})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, r, 31, 20*time.Second)
	if err := f.ev.Close(ctx, id, time.Now()); err != nil {
		t.Fatal(err)
	}
	got := waitFor(t, r, 32, 20*time.Second)
	last := map[string]int64{}
	ranged := 0
	for _, g := range got {
		if !g.SignatureOK {
			t.Errorf("delivery %s: signature %q does not verify", g.Key(), g.Header.Get("Camcloud-Signature"))
		}
		if g.OrgID != "org-a" {
			t.Errorf("delivered an event of %s", g.OrgID)
		}
		if g.Seq <= last[g.CameraID] {
			t.Errorf("camera %s: seq %d after %d", g.CameraID, g.Seq, last[g.CameraID])
		}
		last[g.CameraID] = g.Seq
		if g.Header.Get("Camcloud-Webhook-Id") != w.ID || g.Header.Get("Camcloud-Event-Id") != g.ID || g.Header.Get("Camcloud-Event-Seq") == "" {
			t.Errorf("headers %v", g.Header)
		}
		if g.ID == id {
			ranged++
		}
	}
	if ranged != 2 {
		t.Errorf("the motion event arrived %d times, want opened and ended", ranged)
	}
	if d := tally(got); len(d) != len(got) {
		t.Errorf("%d deliveries of %d events: duplicates without any failure", len(got), len(d))
	}
	testenv.Eventually(t, 10*time.Second, "the cursor past every event", func() bool {
		g, err := s.Get(ctx, f.owner, "org-a", w.ID)
		return err == nil && len(g.Streams) == 1 && g.Streams[0].Backlog == 0 && g.Streams[0].Node == "node-a"
	})
	page, err := s.Deliveries(ctx, f.owner, "org-a", w.ID, "", 10)
	if err != nil || len(page.Deliveries) != 10 || page.Next == "" {
		t.Fatalf("log page: %d, next %q, %v", len(page.Deliveries), page.Next, err)
	}
	for _, d := range page.Deliveries {
		if d.Status != 200 || d.Attempt != 1 || d.Node != "node-a" || d.EventID == "" {
			t.Errorf("log row %+v", d)
		}
	}
	rest, err := s.Deliveries(ctx, f.owner, "org-a", w.ID, page.Next, 1000)
	if err != nil || len(page.Deliveries)+len(rest.Deliveries) != 32 {
		t.Fatalf("log: %d + %d rows, %v", len(page.Deliveries), len(rest.Deliveries), err)
	}
}

// TestSignatureOpenSSL checks a delivery's signature with openssl, an
// implementation that shares nothing with Go's.
func TestSignatureOpenSSL(t *testing.T) {
	openssl := testenv.Tool(t, "openssl")
	body := []byte(`{"id":"e1","type":"motion"}`)
	secret := "whsec_abcdefghijklmnopqrstuvwxyz012345"
	at := time.Unix(1767225600, 0)
	hdr := webhooks.SignatureHeader(at, body, secret)
	cmd := exec.Command(openssl, "dgst", "-sha256", "-hmac", secret)
	cmd.Stdin = strings.NewReader("1767225600." + string(body))
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(out))
	if want := "t=1767225600,v1=" + f[len(f)-1]; hdr != want {
		t.Fatalf("header %q, openssl says %q", hdr, want)
	}
	if err := webhooks.Verify(hdr, body, secret, 5*time.Minute, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		hdr, secret string
		at          time.Time
		want        error
	}{
		{hdr, "whsec_other", at, webhooks.ErrBadSignature},
		{hdr, secret, at.Add(10 * time.Minute), webhooks.ErrStale},
		{"v1=00", secret, at, webhooks.ErrBadSignature},
		{strings.Replace(hdr, "t=1767225600", "t=1767225601", 1), secret, at, webhooks.ErrBadSignature},
	} {
		if err := webhooks.Verify(c.hdr, body, c.secret, 5*time.Minute, c.at); !errors.Is(err, c.want) {
			t.Errorf("Verify(%q, %q) = %v, want %v", c.hdr, c.secret, err, c.want)
		}
	}
}

// TestRetryUntilAccepted: an endpoint answering 500 gets the events again
// with backoff until it answers 200; nothing is lost, each camera's stay
// in order, the log shows the failures and the stream is healthy after.
func TestRetryUntilAccepted(t *testing.T) {
	f := newFixture(t)
	r := newReceiver(t)
	r.SetStatus(500)
	s := f.service(f.config("node-a"))
	w := f.create(s, r, webhooks.Settings{})
	f.run(s)
	ctx := ctxT(t)
	for i := range 20 {
		f.record([]store.Camera{f.a1, f.a2}[i%2], i)
	}
	testenv.Eventually(t, 10*time.Second, "failed attempts in the log", func() bool {
		p, _ := s.Deliveries(ctx, f.owner, "org-a", w.ID, "", 100)
		return len(p.Deliveries) >= 6
	})
	g, err := s.Get(ctx, f.owner, "org-a", w.ID)
	if err != nil || g.Streams[0].FailingSince.IsZero() || g.Streams[0].Attempts == 0 {
		t.Fatalf("stream while failing: %+v %v", g.Streams, err)
	}
	r.SetStatus(200)
	got := waitFor(t, r, 20, 20*time.Second)
	last := map[string]int64{}
	for _, d := range got {
		if d.Seq <= last[d.CameraID] {
			t.Errorf("camera %s: seq %d after %d", d.CameraID, d.Seq, last[d.CameraID])
		}
		last[d.CameraID] = d.Seq
	}
	testenv.Eventually(t, 10*time.Second, "a healthy stream", func() bool {
		g, err := s.Get(ctx, f.owner, "org-a", w.ID)
		return err == nil && g.Streams[0].Attempts == 0 && g.Streams[0].FailingSince.IsZero() && g.Enabled
	})
	p, _ := s.Deliveries(ctx, f.owner, "org-a", w.ID, "", 1000)
	var fails, retried int
	for _, d := range p.Deliveries {
		if d.Status == 500 {
			fails++
		}
		if d.Status == 200 && d.Attempt > 1 {
			retried++
		}
	}
	if fails == 0 || retried == 0 {
		t.Errorf("log has %d failures and %d successes after a retry", fails, retried)
	}
}

// TestDisabledAfterFailing: an endpoint failing for DisableAfter is
// turned off, a webhook.disabled event is recorded on the camera whose
// event it did not take, and it is audited; other webhooks are not held
// back meanwhile.
func TestDisabledAfterFailing(t *testing.T) {
	f := newFixture(t)
	bad, good := newReceiver(t), newReceiver(t)
	bad.SetStatus(503)
	c := f.config("node-a")
	c.DisableAfter = 700 * time.Millisecond
	s := f.service(c)
	w := f.create(s, bad, webhooks.Settings{})
	f.create(s, good, webhooks.Settings{})
	f.run(s)
	ctx := ctxT(t)
	f.record(f.a2, 1)
	waitFor(t, good, 1, 10*time.Second)
	testenv.Eventually(t, 20*time.Second, "the failing webhook turned off", func() bool {
		g, err := s.Get(ctx, f.owner, "org-a", w.ID)
		return err == nil && !g.Enabled && strings.Contains(g.DisabledReason, "HTTP 503")
	})
	var page events.Page
	var entries []store.AuditEntry
	testenv.Eventually(t, 10*time.Second, "the webhook.disabled event and audit entry", func() bool {
		page, _ = f.ev.List(ctx, f.owner, events.Filter{Types: []string{events.TypeWebhookDisabled}}, "")
		entries, _ = f.dir.ListAudit(ctx, store.AuditFilter{OrgIDs: []string{"org-a"}})
		return len(page.Events) > 0 && len(entries) > 0
	})
	if len(page.Events) != 1 || page.Events[0].CameraID != f.a2.ID || !strings.Contains(string(page.Events[0].Detail), w.ID) {
		t.Fatalf("webhook.disabled events: %+v", page.Events)
	}
	if entries[0].Action != "webhook.disable" || entries[0].Target != "webhook:"+w.ID {
		t.Fatalf("audit: %+v", entries)
	}
	// The other webhook took the event, and then the webhook.disabled one.
	got := waitFor(t, good, 2, 10*time.Second)
	if got[1].Type != events.TypeWebhookDisabled {
		t.Errorf("the healthy webhook got %q", got[1].Type)
	}
	// Turned on again, it delivers what comes from then on.
	bad.SetStatus(200)
	on := true
	if _, _, err := s.Update(ctx, f.owner, "org-a", w.ID, webhooks.Settings{Enabled: &on}); err != nil {
		t.Fatal(err)
	}
	e := f.record(f.a1, 2)
	testenv.Eventually(t, 10*time.Second, "delivery after enabling", func() bool {
		for _, g := range bad.Accepted() {
			if g.ID == e.ID {
				return true
			}
		}
		return false
	})
	if n := len(bad.Accepted()); n != 1 {
		t.Errorf("after enabling %d deliveries, want only the new event", n)
	}
}

// TestFilters: the type and camera filters, and custom.* for every
// custom type.
func TestFilters(t *testing.T) {
	f := newFixture(t)
	r := newReceiver(t)
	s := f.service(f.config("node-a"))
	types, cams := []string{webhooks.TypeAnyCustom, events.TypeOffline}, []string{f.a2.ID}
	f.create(s, r, webhooks.Settings{Types: &types, Cameras: &cams})
	f.run(s)
	ctx := ctxT(t)
	f.record(f.a1, 1) // other camera
	if _, err := f.ev.Record(ctx, events.Event{CameraID: f.a2.ID, Type: events.TypeOnline}); err != nil {
		t.Fatal(err)
	}
	want := []string{f.record(f.a2, 2).ID}
	e, err := f.ev.Record(ctx, events.Event{CameraID: f.a2.ID, Type: events.TypeOffline})
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, e.ID, f.record(f.a2, 3).ID)
	waitFor(t, r, 3, 10*time.Second)
	time.Sleep(300 * time.Millisecond) // nothing else comes
	got := r.Accepted()
	if len(got) != 3 {
		t.Fatalf("%d deliveries, want 3", len(got))
	}
	for i, g := range got {
		if g.ID != want[i] {
			t.Errorf("delivery %d is %s %s, want %s", i, g.Type, g.ID, want[i])
		}
	}
}

// flaky wraps a directory so that a node can lose it, as a node that
// hangs or is cut off from the database: its claims, saves and releases fail.
type flaky struct {
	store.Directory
	down atomic.Bool
}

var errDown = errors.New("directory unreachable")

func (d *flaky) SaveWebhookCursor(ctx context.Context, c store.WebhookCursor, owner string, until time.Time, log []store.WebhookDelivery) error {
	if d.down.Load() {
		return errDown
	}
	return d.Directory.SaveWebhookCursor(ctx, c, owner, until, log)
}

func (d *flaky) ClaimWebhookCursor(ctx context.Context, webhookID, zone, owner string, until, now time.Time) (store.WebhookCursor, bool, error) {
	if d.down.Load() {
		return store.WebhookCursor{}, false, errDown
	}
	return d.Directory.ClaimWebhookCursor(ctx, webhookID, zone, owner, until, now)
}

func (d *flaky) ReleaseWebhookCursor(ctx context.Context, webhookID, zone, owner string) error {
	if d.down.Load() {
		return errDown
	}
	return d.Directory.ReleaseWebhookCursor(ctx, webhookID, zone, owner)
}

// TestTakeOver: two nodes, one delivers. Stopped, it hands over at once;
// cut off from the directory, it stops sending when its lease runs out
// and the other node goes on from the last saved position: every event
// arrives, what was sent but not saved arrives twice (counted).
func TestTakeOver(t *testing.T) {
	f := newFixture(t)
	r := newReceiver(t)
	da, db := &flaky{Directory: f.dir}, &flaky{Directory: f.dir}
	ca, cb := f.config("node-a"), f.config("node-b")
	ca.Dir, cb.Dir = da, db
	a, b := f.service(ca), f.service(cb)
	w := f.create(a, r, webhooks.Settings{})
	stopA := f.run(a)
	ctx := ctxT(t)
	testenv.Eventually(t, 5*time.Second, "node a delivering", func() bool {
		g, _ := a.Get(ctx, f.owner, "org-a", w.ID)
		return len(g.Streams) == 1 && g.Streams[0].Node == "node-a"
	})
	stopB := f.run(b)
	for i := range 10 {
		f.record(f.a1, i)
	}
	waitFor(t, r, 10, 10*time.Second)
	stopA() // graceful: saved and released
	for i := 10; i < 20; i++ {
		f.record(f.a1, i)
	}
	waitFor(t, r, 20, 10*time.Second)
	g, _ := b.Get(ctx, f.owner, "org-a", w.ID)
	if g.Streams[0].Node != "node-b" {
		t.Fatalf("after node a stopped, %q delivers", g.Streams[0].Node)
	}
	if n := len(r.Accepted()); n != 20 {
		t.Errorf("graceful hand-over: %d deliveries of 20 events", n)
	}
	// Node b is cut off from the directory; a runs again and takes over
	// once b's lease has run out.
	db.down.Store(true)
	f.run(f.service(f.config("node-c")))
	for i := 20; i < 40; i++ {
		f.record([]store.Camera{f.a1, f.a2}[i%2], i)
		time.Sleep(20 * time.Millisecond)
	}
	got := waitFor(t, r, 40, 20*time.Second)
	counts := tally(got)
	dups := len(got) - len(counts)
	t.Logf("take-over after a node lost the directory: %d events, %d deliveries, %d duplicates", len(counts), len(got), dups)
	stopB()
	g, _ = a.Get(ctx, f.owner, "org-a", w.ID)
	if g.Streams[0].Node != "node-c" {
		t.Errorf("node %q delivers, want node-c", g.Streams[0].Node)
	}
}
