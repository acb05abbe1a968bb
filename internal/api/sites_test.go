package api_test

import (
	"context"
	"errors"
	"net/url"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/cameras"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestSitesLifecycle walks a site through what an admin and its agent do
// with it: create (one-time enrolment token), enrol (token used once,
// also when two agents race), heartbeat (status in the API), a camera put
// at the site, rotation, revocation (credential, pending token and the
// camera's live relay refused at once), enrolment again; and checks that
// members of another organisation see none of it.
func TestSitesLifecycle(t *testing.T) {
	e := start(t)
	w := e.world()
	admin, viewer, operator, other := w.tok["admin"], w.tok["viewer"], w.tok["operator"], w.tok["other"]

	// Creation: admins only; the token is shown once.
	e.must(e.do("POST", "/api/v1/sites", operator, map[string]string{"org_id": w.orgA, "name": "shop"}), 403)
	e.must(e.do("POST", "/api/v1/sites", other, map[string]string{"org_id": w.orgA, "name": "shop"}), 404)
	if r := e.do("POST", "/api/v1/sites", admin, map[string]string{"org_id": w.orgA, "name": "bad\u202ename"}); r.Status != 400 {
		t.Fatalf("a name with a bidi control: %d %s", r.Status, r.Raw)
	}
	e.must(e.do("POST", "/api/v1/sites", admin, map[string]string{"org_id": w.orgA, "name": " "}), 400)
	e.must(e.do("POST", "/api/v1/sites", admin, map[string]any{"org_id": w.orgA, "name": "x", "extra": 1}), 400)
	cr := e.must(e.do("POST", "/api/v1/sites", admin, map[string]string{"org_id": w.orgA, "name": "Shop 12"}), 201)
	site, enrol := cr.str("id"), cr.str("enrolment_token")
	if enrol == "" || cr.Body["enrolment_pending"] != true || cr.Body["enrolled"] != false {
		t.Fatalf("created %s", cr.Raw)
	}
	bSite := e.must(e.do("POST", "/api/v1/sites", other, map[string]string{"org_id": w.orgB, "name": "B site"}), 201).str("id")

	// Listing and reading: members of A see A's site (without a token),
	// B's owner sees only B's.
	list := e.must(e.do("GET", "/api/v1/sites", viewer, nil), 200)
	if ss, _ := list.Body["sites"].([]any); len(ss) != 1 || ss[0].(map[string]any)["id"] != site || ss[0].(map[string]any)["enrolment_token"] != nil {
		t.Fatalf("viewer of A lists %s", list.Raw)
	}
	if ss, _ := e.must(e.do("GET", "/api/v1/sites", other, nil), 200).Body["sites"].([]any); len(ss) != 1 || ss[0].(map[string]any)["id"] != bSite {
		t.Fatalf("owner of B lists %v", ss)
	}
	e.must(e.do("GET", "/api/v1/sites/"+site, viewer, nil), 200)
	e.must(e.do("GET", "/api/v1/sites/"+site, other, nil), 404)
	e.must(e.do("POST", "/api/v1/sites/"+site+"/revoke", other, nil), 404)
	e.must(e.do("POST", "/api/v1/sites/"+site+"/enrolment", other, nil), 404)
	e.must(e.do("POST", "/api/v1/sites/"+site+"/revoke", viewer, nil), 403)

	// Enrolment: the token works once, even when agents race for it.
	e.must(e.do("POST", "/api/v1/agent/enrol", "", map[string]string{"token": "cc_e_guess"}), 401)
	e.must(e.do("POST", "/api/v1/agent/enrol", "", map[string]string{"token": w.secretURL}), 401)
	var wg sync.WaitGroup
	creds := make(chan string, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := e.do("POST", "/api/v1/agent/enrol", "", map[string]string{"token": enrol}); r.Status == 200 {
				creds <- r.str("credential")
			} else if r.Status != 401 {
				t.Errorf("racing enrolment: %d %s", r.Status, r.Raw)
			}
		}()
	}
	wg.Wait()
	close(creds)
	var cred string
	for c := range creds {
		if cred != "" {
			t.Fatal("one enrolment token gave two credentials")
		}
		cred = c
	}
	if cred == "" {
		t.Fatal("no enrolment succeeded")
	}

	// Heartbeat: the status shows in the API; bad figures are refused.
	hb := map[string]any{"agent_version": "test/1", "buffer_used_bytes": 1000, "buffer_max_bytes": 5000, "backlog_seconds": 12.5,
		"backlog_bytes": 400, "upload_bps": 8000}
	e.must(e.do("POST", "/api/v1/agent/heartbeat", admin, hb), 401) // a user's session is no site credential
	e.must(e.do("POST", "/api/v1/agent/heartbeat", cred, map[string]any{"buffer_used_bytes": -1}), 400)
	e.must(e.do("POST", "/api/v1/agent/heartbeat", cred, map[string]any{"upload_bps": 1 << 50}), 400)
	e.must(e.do("POST", "/api/v1/agent/heartbeat", cred, map[string]any{"agent_version": "x\u0007"}), 400)
	got := e.must(e.do("POST", "/api/v1/agent/heartbeat", cred, hb), 200)
	if cams, _ := got.Body["cameras"].([]any); len(cams) != 0 {
		t.Fatalf("a new site has cameras: %s", got.Raw)
	}
	st, _ := e.must(e.do("GET", "/api/v1/sites/"+site, viewer, nil), 200).Body["status"].(map[string]any)
	if st["online"] != true || st["buffer_used_bytes"] != 1000.0 || st["backlog_seconds"] != 12.5 || st["upload_bps"] != 8000.0 ||
		st["agent_version"] != "test/1" {
		t.Fatalf("status %v", st)
	}
	// The fleet's site series: A's site online with its figures, B's waiting for an agent.
	for name, want := range map[string]float64{"camcloud_sites/online": 1, "camcloud_sites/waiting": 1, "camcloud_sites/offline": 0,
		"camcloud_sites_backlog_seconds": 12.5, "camcloud_sites_backlog_bytes": 400, "camcloud_sites_buffer_used_bytes": 1000,
		"camcloud_sites_upload_bits_per_second": 8000} {
		name, state, _ := strings.Cut(name, "/")
		var labels map[string]string
		if state != "" {
			labels = map[string]string{"state": state}
		}
		if got := testenv.GatheredValue(t, e.app.Registry, name, labels); got != want {
			t.Errorf("%s{%s} = %v, want %v", name, state, got, want)
		}
	}

	// Cameras at the site: only sites of the camera's organisation; the
	// agent sees its cameras, never another site's.
	e.must(e.do("PATCH", "/api/v1/cameras/"+w.camA, admin, map[string]string{"site_id": bSite}), 400)
	e.must(e.do("PATCH", "/api/v1/cameras/"+w.camA, admin, map[string]string{"site_id": "nope"}), 400)
	e.must(e.do("POST", "/api/v1/cameras", other, map[string]any{"org_id": w.orgB, "name": "x", "site_id": site}), 400)
	if c := e.must(e.do("PATCH", "/api/v1/cameras/"+w.camA, admin, map[string]string{"site_id": site}), 200); c.str("site_id") != site {
		t.Fatalf("camera %s", c.Raw)
	}
	bCam := e.must(e.do("POST", "/api/v1/cameras", other, map[string]any{"org_id": w.orgB, "name": "at B", "site_id": bSite}), 201).str("id")
	got = e.must(e.do("POST", "/api/v1/agent/heartbeat", cred, hb), 200)
	if cams, _ := got.Body["cameras"].([]any); len(cams) != 1 || cams[0].(map[string]any)["id"] != w.camA {
		t.Fatalf("site cameras %s", got.Raw)
	}
	// Missing ranges: only of the site's cameras, bounded.
	now := time.Now().UTC()
	q := "?from=" + url.QueryEscape(now.Add(-time.Hour).Format(time.RFC3339)) + "&to=" + url.QueryEscape(now.Format(time.RFC3339))
	miss := e.must(e.do("GET", "/api/v1/agent/cameras/"+w.camA+"/missing"+q, cred, nil), 200)
	if ms, _ := miss.Body["missing"].([]any); len(ms) != 1 { // nothing is recorded yet: the whole hour
		t.Fatalf("missing %s", miss.Raw)
	}
	e.must(e.do("GET", "/api/v1/agent/cameras/"+w.camB+"/missing"+q, cred, nil), 404)  // another organisation's
	e.must(e.do("GET", "/api/v1/agent/cameras/"+bCam+"/missing"+q, cred, nil), 404)    // another site's
	e.must(e.do("GET", "/api/v1/agent/cameras/"+w.camA+"/missing"+q, admin, nil), 401) // a user
	e.must(e.do("GET", "/api/v1/agent/cameras/"+w.camA+"/missing?from=x&to=y", cred, nil), 400)
	long := "?from=" + url.QueryEscape(now.Add(-40*24*time.Hour).Format(time.RFC3339)) + "&to=" + url.QueryEscape(now.Format(time.RFC3339))
	e.must(e.do("GET", "/api/v1/agent/cameras/"+w.camA+"/missing"+long, cred, nil), 400)

	u, err := url.Parse(w.secretURL)
	if err != nil {
		t.Fatal(err)
	}
	secret := path.Base(u.Path)
	ctx := context.Background()
	if err := e.app.Cameras.AuthorizePublish(ctx, w.camA, secret); err != nil {
		t.Fatalf("the enrolled site's camera may not publish: %v", err)
	}

	// Rotation: the old credential is refused from then on.
	rot := e.must(e.do("POST", "/api/v1/agent/rotate", cred, nil), 200)
	e.must(e.do("POST", "/api/v1/agent/heartbeat", cred, hb), 401)
	cred = rot.str("credential")
	e.must(e.do("POST", "/api/v1/agent/heartbeat", cred, hb), 200)

	// Revocation: the credential, a pending token and the camera's relay
	// are refused at once; a new enrolment brings the site back.
	pending := e.must(e.do("POST", "/api/v1/sites/"+site+"/enrolment", admin, nil), 200).str("enrolment_token")
	rv := e.must(e.do("POST", "/api/v1/sites/"+site+"/revoke", admin, nil), 200)
	if rv.Body["enrolled"] != false || rv.Body["revoked_at"] == nil {
		t.Fatalf("revoked %s", rv.Raw)
	}
	e.must(e.do("POST", "/api/v1/agent/heartbeat", cred, hb), 401)
	e.must(e.do("POST", "/api/v1/agent/rotate", cred, nil), 401)
	e.must(e.do("POST", "/api/v1/agent/enrol", "", map[string]string{"token": pending}), 401)
	if st, _ := e.must(e.do("GET", "/api/v1/sites/"+site, viewer, nil), 200).Body["status"].(map[string]any); st["online"] != false {
		t.Fatalf("a revoked site is online: %v", st)
	}
	if err := e.app.Cameras.AuthorizePublish(ctx, w.camA, secret); !errors.Is(err, cameras.ErrSiteRevoked) {
		t.Fatalf("a revoked site's camera publishing: %v, want ErrSiteRevoked", err)
	}
	again := e.must(e.do("POST", "/api/v1/sites/"+site+"/enrolment", admin, nil), 200).str("enrolment_token")
	cred = e.must(e.do("POST", "/api/v1/agent/enrol", "", map[string]string{"token": again}), 200).str("credential")
	e.must(e.do("POST", "/api/v1/agent/heartbeat", cred, hb), 200)
	if err := e.app.Cameras.AuthorizePublish(ctx, w.camA, secret); err != nil {
		t.Fatalf("after enrolling again: %v", err)
	}

	// The audit log has the admin's and the agent's actions.
	audit := e.must(e.do("GET", "/api/v1/audit", admin, nil), 200)
	for _, action := range []string{"site.create", "site.enrol", "site.rotate", "site.revoke", "site.enrolment"} {
		if !containsAction(audit.Body, action) {
			t.Errorf("no %s in the audit log", action)
		}
	}
}

// containsAction reports whether an audit listing has an entry of action.
func containsAction(body map[string]any, action string) bool {
	es, _ := body["entries"].([]any)
	for _, x := range es {
		if m, _ := x.(map[string]any); m["action"] == action {
			return true
		}
	}
	return false
}
