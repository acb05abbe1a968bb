package webhooks_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/audit"
	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/config"
	"github.com/camcloud/camcloud/internal/events"
	"github.com/camcloud/camcloud/internal/netpolicy"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/testenv"
	"github.com/camcloud/camcloud/internal/webhooks"
	"github.com/camcloud/camcloud/internal/zone"
)

// fixture is a directory with organisations A (cameras a1, a2) and B
// (camera b1), one zone, and the event service over them.
type fixture struct {
	t                    *testing.T
	dir                  store.Directory
	ev                   *events.Service
	audit                *audit.Log
	owner, viewer, other *authz.Principal
	a1, a2, b1           store.Camera
	secret               string // of the webhook create made last
}

const testKey = "webhooks-test-media-key-0123456789abcdef"

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := ctxT(t)
	d := t.TempDir()
	dir, err := store.OpenDirectory(ctx, "sqlite:"+filepath.Join(d, "dir.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	zones, err := zone.Open(ctx, []config.Zone{{Name: "z1", DB: "sqlite:" + filepath.Join(d, "z1.db"), Store: config.Store{Type: "local", Dir: t.TempDir()}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(zones.Close)
	f := &fixture{t: t, dir: dir, audit: audit.New(dir, nil)}
	for _, o := range []string{"org-a", "org-b"} {
		if err := dir.CreateOrg(ctx, store.Org{ID: o, Name: o, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []*store.Camera{{ID: "cam-a1", OrgID: "org-a"}, {ID: "cam-a2", OrgID: "org-a"}, {ID: "cam-b1", OrgID: "org-b"}} {
		c.Name, c.Zone, c.SourceType, c.RetentionDays, c.Recording, c.CreatedAt = c.ID, "z1", "push", 7, "continuous", time.Now()
		if err := dir.CreateCamera(ctx, *c); err != nil {
			t.Fatal(err)
		}
		switch c.ID {
		case "cam-a1":
			f.a1 = *c
		case "cam-a2":
			f.a2 = *c
		default:
			f.b1 = *c
		}
	}
	f.owner = &authz.Principal{UserID: "u-owner-a", Roles: map[string]string{"org-a": store.RoleOwner}}
	f.viewer = &authz.Principal{UserID: "u-viewer-a", Roles: map[string]string{"org-a": store.RoleViewer}}
	f.other = &authz.Principal{UserID: "u-owner-b", Roles: map[string]string{"org-b": store.RoleOwner}}
	f.ev, err = events.New(events.Config{Dir: dir, Zones: zones, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.ev.Stop)
	return f
}

// loopback is the policy of tests: 127.0.0.0/8 allowed.
func loopback() *netpolicy.Policy { return testenv.AllowLoopback() }

// config is a service's configuration with short timings.
func (f *fixture) config(node string) webhooks.Config {
	return webhooks.Config{Dir: f.dir, Events: f.ev, Audit: f.audit, Policy: loopback(), AllowHTTP: true, SecretKey: []byte(testKey),
		Node: node, ScanInterval: 50 * time.Millisecond, LeaseTTL: 1500 * time.Millisecond, Timeout: 2 * time.Second,
		RetryMin: 50 * time.Millisecond, RetryMax: 400 * time.Millisecond}
}

// service builds a service of c; run starts its deliverer until the
// test ends (or stop is called).
func (f *fixture) service(c webhooks.Config) *webhooks.Service {
	f.t.Helper()
	s, err := webhooks.New(c)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// run runs s's deliverer; the returned function stops it and waits.
func (f *fixture) run(s *webhooks.Service) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	f.t.Cleanup(stop)
	return stop
}

// record writes a custom event of cam with a number in its detail.
func (f *fixture) record(cam store.Camera, n int) events.Event {
	f.t.Helper()
	e, err := f.ev.Record(context.Background(), events.Event{CameraID: cam.ID, Type: "custom.test", Detail: events.Detail(map[string]int{"n": n})})
	if err != nil {
		f.t.Fatal(err)
	}
	return e
}

// receiver is a webhook endpoint on 127.0.0.1 that checks signatures.
type receiver = testenv.HookReceiver

func newReceiver(t *testing.T) *receiver { return testenv.NewHookReceiver(t) }

// waitFor waits until the receiver accepted n distinct deliveries and
// returns what it accepted.
func waitFor(t *testing.T, r *receiver, n int, within time.Duration) []testenv.HookDelivery {
	t.Helper()
	r.WaitAccepted(t, n, within)
	return r.Accepted()
}

// create makes a webhook of org A to the receiver and gives the receiver
// its secret.
func (f *fixture) create(s *webhooks.Service, r *receiver, in webhooks.Settings) webhooks.Webhook {
	f.t.Helper()
	in.URL = &r.URL
	w, secret, err := s.Create(context.Background(), f.owner, "org-a", in)
	if err != nil {
		f.t.Fatal(err)
	}
	r.SetSecret(secret)
	f.secret = secret
	return w
}

// tally counts deliveries by event version.
func tally(got []testenv.HookDelivery) map[string]int {
	out := map[string]int{}
	for _, g := range got {
		out[g.Key()]++
	}
	return out
}
