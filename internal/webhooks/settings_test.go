package webhooks_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/netpolicy"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/testenv"
	"github.com/camcloud/camcloud/internal/webhooks"
)

func ptr[T any](v T) *T { return &v }

// TestSettingsRefused: bad URLs (not https, refused addresses,
// credentials), types, cameras and descriptions are *InputErrors naming
// the problem, with the default destination policy.
func TestSettingsRefused(t *testing.T) {
	f := newFixture(t)
	c := f.config("n")
	c.Policy, c.AllowHTTP = netpolicy.NewFor(nil, "webhook_allow"), false
	s := f.service(c)
	ctx := ctxT(t)
	cases := []struct {
		in   webhooks.Settings
		want string
	}{
		{webhooks.Settings{}, "url is required"},
		{webhooks.Settings{URL: ptr("http://203.0.113.9/hook")}, "must be https"},
		{webhooks.Settings{URL: ptr("ftp://203.0.113.9/hook")}, "must be an https URL"},
		{webhooks.Settings{URL: ptr("https://127.0.0.1/hook")}, "loopback"},
		{webhooks.Settings{URL: ptr("https://localhost:8443/hook")}, "loopback"},
		{webhooks.Settings{URL: ptr("https://[::1]/hook")}, "loopback"},
		{webhooks.Settings{URL: ptr("https://169.254.169.254/latest")}, "link-local"},
		{webhooks.Settings{URL: ptr("https://10.1.2.3/hook")}, "webhook_allow"},
		{webhooks.Settings{URL: ptr("https://0.0.0.0/hook")}, "unspecified"},
		{webhooks.Settings{URL: ptr("https://user:pw@203.0.113.9/hook")}, "credentials"},
		{webhooks.Settings{URL: ptr("https://203.0.113.9/hook#x")}, "fragment"},
		{webhooks.Settings{URL: ptr("https:///hook")}, "no host"},
		{webhooks.Settings{URL: ptr("https://203.0.113.9:0/hook")}, "not a port"},
		{webhooks.Settings{URL: ptr("https://203.0.113.9/" + strings.Repeat("a", 2048))}, "longer than"},
		{webhooks.Settings{URL: ptr("https://camcloud-test.invalid/hook")}, "does not resolve"},
		{webhooks.Settings{URL: ptr("https://203.0.113.9/"), Types: &[]string{"nope"}}, "unknown event type"},
		{webhooks.Settings{URL: ptr("https://203.0.113.9/"), Types: ptr(make([]string, 33))}, "at most 32"},
		{webhooks.Settings{URL: ptr("https://203.0.113.9/"), Cameras: &[]string{"cam-b1"}}, "not a camera of this organisation"},
		{webhooks.Settings{URL: ptr("https://203.0.113.9/"), Cameras: ptr(make([]string, 101))}, "at most 100"},
		{webhooks.Settings{URL: ptr("https://203.0.113.9/"), Description: ptr("a\u202eb")}, "bidirectional"},
	}
	for _, c := range cases {
		_, _, err := s.Create(ctx, f.owner, "org-a", c.in)
		var ie *webhooks.InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Create(%+v) = %v, want an InputError about %q", c.in, err, c.want)
		}
	}
	w, secret, err := s.Create(ctx, f.owner, "org-a", webhooks.Settings{URL: ptr("HTTPS://203.0.113.9:8443/hook?k=v"),
		Types: &[]string{"motion", "motion", "custom.*"}, Cameras: &[]string{"cam-a1"}, Description: ptr("  ops  ")})
	if err != nil {
		t.Fatal(err)
	}
	if w.URL != "https://203.0.113.9:8443/hook?k=v" || len(w.Types) != 2 || w.Description != "ops" || !w.Enabled || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("created %+v, secret %q", w, secret)
	}
	if _, _, err := s.Update(ctx, f.owner, "org-a", w.ID, webhooks.Settings{URL: ptr("https://192.168.1.1/")}); err == nil {
		t.Fatal("a refused URL was set by an update")
	}
}

// TestTenantsAndRoles: another organisation's owner does not find the
// webhook (whichever organisation it names); members below admin are
// refused; the limit per organisation holds.
func TestTenantsAndRoles(t *testing.T) {
	f := newFixture(t)
	s := f.service(f.config("n"))
	ctx := ctxT(t)
	w, _, err := s.Create(ctx, f.owner, "org-a", webhooks.Settings{URL: ptr("https://203.0.113.9/hook")})
	if err != nil {
		t.Fatal(err)
	}
	admin := &authz.Principal{UserID: "u-admin", Roles: map[string]string{"org-a": store.RoleAdmin}}
	operator := &authz.Principal{UserID: "u-op", Roles: map[string]string{"org-a": store.RoleOperator}}
	calls := map[string]func(p *authz.Principal, org string) error{
		"list": func(p *authz.Principal, org string) error { _, err := s.List(ctx, p, org); return err },
		"get":  func(p *authz.Principal, org string) error { _, err := s.Get(ctx, p, org, w.ID); return err },
		"update": func(p *authz.Principal, org string) error {
			_, _, err := s.Update(ctx, p, org, w.ID, webhooks.Settings{})
			return err
		},
		"rotate": func(p *authz.Principal, org string) error { _, _, err := s.RotateSecret(ctx, p, org, w.ID); return err },
		"log": func(p *authz.Principal, org string) error {
			_, err := s.Deliveries(ctx, p, org, w.ID, "", 0)
			return err
		},
		"create": func(p *authz.Principal, org string) error {
			_, _, err := s.Create(ctx, p, org, webhooks.Settings{URL: ptr("https://203.0.113.9/x")})
			return err
		},
	}
	for name, call := range calls {
		if err := call(f.other, "org-a"); !errors.Is(err, authz.ErrNotFound) {
			t.Errorf("%s by another organisation: %v, want not found", name, err)
		}
		if name != "list" && name != "create" {
			if err := call(f.other, "org-b"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s of org A's webhook through org B: %v, want not found", name, err)
			}
		}
		for _, p := range []*authz.Principal{f.viewer, operator} {
			if err := call(p, "org-a"); !errors.Is(err, authz.ErrForbidden) {
				t.Errorf("%s by %v: %v, want forbidden", name, p.Roles, err)
			}
		}
		if err := call(admin, "org-a"); err != nil {
			t.Errorf("%s by an admin: %v", name, err)
		}
	}
	if _, err := s.Delete(ctx, f.other, "org-b", w.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete through org B: %v", err)
	}
	list, _ := s.List(ctx, f.owner, "org-a")
	for i := len(list); i < store.MaxWebhooksPerOrg; i++ {
		if _, _, err := s.Create(ctx, f.owner, "org-a", webhooks.Settings{URL: ptr("https://203.0.113.9/more")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.Create(ctx, f.owner, "org-a", webhooks.Settings{URL: ptr("https://203.0.113.9/more")}); !errors.Is(err, store.ErrLimit) {
		t.Errorf("webhook %d: %v, want the limit", store.MaxWebhooksPerOrg+1, err)
	}
	if _, err := s.Delete(ctx, f.owner, "org-a", w.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, f.owner, "org-a", w.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted webhook: %v", err)
	}
}

// TestRotateAndPing: a rotated secret signs beside the old one during
// the grace; the test ping arrives signed and is logged.
func TestRotateAndPing(t *testing.T) {
	f := newFixture(t)
	r := newReceiver(t)
	s := f.service(f.config("n"))
	w := f.create(s, r, webhooks.Settings{})
	ctx := ctxT(t)
	old := f.secret
	_, secret, err := s.RotateSecret(ctx, f.owner, "org-a", w.ID)
	if err != nil || secret == old || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("rotate: %q %v", secret, err)
	}
	d, err := s.Test(ctx, f.owner, "org-a", w.ID)
	if err != nil || d.Status != 200 || d.EventType != webhooks.TypeTest {
		t.Fatalf("ping: %+v %v", d, err)
	}
	got := r.Accepted()
	if len(got) != 1 || got[0].Type != webhooks.TypeTest {
		t.Fatalf("received %+v", got)
	}
	hdr, body := got[0].Header.Get("Camcloud-Signature"), got[0].Body
	if strings.Count(hdr, "v1=") != 2 || !testenv.VerifyHookSignature(hdr, body, secret) || !testenv.VerifyHookSignature(hdr, body, old) {
		t.Errorf("signature during the grace %q: want both secrets", hdr)
	}
	page, _ := s.Deliveries(ctx, f.owner, "org-a", w.ID, "", 0)
	if len(page.Deliveries) != 1 || page.Deliveries[0].EventType != webhooks.TypeTest {
		t.Errorf("log %+v", page.Deliveries)
	}
	if _, err := s.Deliveries(ctx, f.owner, "org-a", w.ID, "!!", 0); err == nil {
		t.Error("a malformed cursor was accepted")
	}
}

// TestRefusedWhenDialled: an address allowed when the URL was set but
// refused when dialled (the policy changed, or a name now resolving
// elsewhere) is not connected to.
func TestRefusedWhenDialled(t *testing.T) {
	f := newFixture(t)
	addr, accepted := testenv.AcceptCounter(t)
	s := f.service(f.config("n"))
	w, _, err := s.Create(ctx(t), f.owner, "org-a", webhooks.Settings{URL: ptr("http://" + addr + "/hook")})
	if err != nil {
		t.Fatal(err)
	}
	c := f.config("m")
	c.Policy = netpolicy.New(nil) // loopback refused
	strict := f.service(c)
	d, err := strict.Test(ctx(t), f.owner, "org-a", w.ID)
	if err != nil || d.Status != 0 || !strings.Contains(d.Error, "destination refused") {
		t.Fatalf("ping to a refused address: %+v %v", d, err)
	}
	select {
	case <-accepted:
		t.Fatal("the refused address was connected to")
	case <-time.After(100 * time.Millisecond):
	}
}

func ctx(t *testing.T) context.Context { return ctxT(t) }

// TestGraceEnds: once a rotated-out secret's grace is over, deliveries
// are signed with the new secret only.
func TestGraceEnds(t *testing.T) {
	f := newFixture(t)
	r := newReceiver(t)
	c := f.config("n")
	c.SecretGrace = 1500 * time.Millisecond
	s := f.service(c)
	w := f.create(s, r, webhooks.Settings{})
	f.run(s)
	_, secret, err := s.RotateSecret(ctx(t), f.owner, "org-a", w.ID)
	if err != nil {
		t.Fatal(err)
	}
	rotated := time.Now()
	r.SetSecret(secret)
	time.Sleep(4 * c.ScanInterval) // the stream takes the new secrets at its next scan
	f.record(f.a1, 1)
	first := waitFor(t, r, 1, 10*time.Second)[0]
	time.Sleep(time.Until(rotated.Add(c.SecretGrace + 4*c.ScanInterval)))
	f.record(f.a1, 2)
	second := waitFor(t, r, 2, 10*time.Second)[1]
	if n := strings.Count(first.Header.Get("Camcloud-Signature"), "v1="); n != 2 {
		t.Errorf("during the grace: %d signatures", n)
	}
	if n := strings.Count(second.Header.Get("Camcloud-Signature"), "v1="); n != 1 || !second.SignatureOK {
		t.Errorf("after the grace: %d signatures (valid %v)", n, second.SignatureOK)
	}
}
