package api_test

import (
	"bufio"
	"context"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/apptest"
	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/sample"
	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/testenv"
)

// authzColumns are the callers of the authorisation table in docs/api.md,
// in its column order: every role of organisation A, a viewer of A with
// every grant on the camera at hand, the owner of organisation B, a
// platform admin who is no member of A, and no credentials at all.
var authzColumns = []string{"owner", "admin", "operator", "viewer", "viewer+grants", "other org", "platform admin", "none"}

// authzTableHeading starts the section of docs/api.md holding the table.
const authzTableHeading = "## Authorisation by route"

// TestRouteAuthorisation walks every route registered on a node that runs
// every role (api, live, playback, web, probes) as every caller of
// authzColumns and checks the answer's class against the table in
// docs/api.md: "2xx", or an exact status such as 401, 403 or 404. A route
// without a row fails the test by name, as does a row naming no route. Each
// call that changes something gets a fresh target (camera, member, API key,
// session), so that the calls do not depend on each other.
func TestRouteAuthorisation(t *testing.T) {
	testenv.Tool(t, "ffmpeg") // the image route
	table := readAuthzTable(t, "../../docs/api.md")
	f := newAuthzFixture(t)
	routes := f.e.app.HTTP.Routes()
	registered := map[string]bool{}
	for _, rt := range routes {
		registered[rt.Pattern] = true
		row, ok := table[rt.Pattern]
		got := make([]string, len(authzColumns))
		for i, who := range authzColumns {
			method, path, body, token := f.request(rt, who)
			res := f.e.do(method, path, token, body)
			want := "2xx"
			if ok {
				want = row[i]
			}
			got[i] = answerClass(res.Status, want)
			if res.Status >= 500 && res.Status != 501 && res.Status != 503 {
				t.Errorf("%s as %s (%s %s): %d %.200q", rt.Pattern, who, method, path, res.Status, res.Raw)
			} else if ok && got[i] != want {
				t.Errorf("%s as %s (%s %s): %d %.200q, want %s", rt.Pattern, who, method, path, res.Status, res.Raw, want)
			}
		}
		if !ok {
			t.Errorf("route %q is registered but has no row in the table under %q in docs/api.md; "+
				"what it answered now (check before adding it):\n| `%s` | %s |", rt.Pattern, authzTableHeading, rt.Pattern, strings.Join(got, " | "))
		}
	}
	for p := range table {
		if !registered[p] {
			t.Errorf("the table in docs/api.md has a row for %q, which no package registers", p)
		}
	}
}

// answerClass is how a status compares with a table cell: "2xx" for any
// success when the cell says so, else the status itself.
func answerClass(status int, cell string) string {
	if cell == "2xx" && status >= 200 && status < 300 {
		return "2xx"
	}
	return fmt.Sprint(status)
}

// readAuthzTable parses the table under authzTableHeading: one row per
// route pattern (in backticks) with one cell per authzColumns entry.
func readAuthzTable(t *testing.T, file string) map[string][]string {
	t.Helper()
	fh, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	out := map[string][]string{}
	in, header := false, false
	cell := regexp.MustCompile(`^(2xx|[1-5][0-9][0-9])$`)
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "## "):
			in = line == authzTableHeading
			continue
		case !in || !strings.HasPrefix(line, "|"):
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if !header {
			if want := append([]string{"route"}, authzColumns...); strings.Join(cells, "|") != strings.Join(want, "|") {
				t.Fatalf("docs/api.md: the table header is %q, want %q", cells, want)
			}
			header = true
			continue
		}
		if strings.HasPrefix(cells[0], "---") {
			continue
		}
		pattern := strings.Trim(cells[0], "`")
		if len(cells) != len(authzColumns)+1 {
			t.Fatalf("docs/api.md: row %q has %d cells, want %d", pattern, len(cells), len(authzColumns)+1)
		}
		for _, c := range cells[1:] {
			if !cell.MatchString(c) {
				t.Fatalf("docs/api.md: row %q has cell %q, want 2xx or a status", pattern, c)
			}
		}
		if _, dup := out[pattern]; dup {
			t.Fatalf("docs/api.md: two rows for %q", pattern)
		}
		out[pattern] = cells[1:]
	}
	if len(out) == 0 {
		t.Fatalf("docs/api.md has no table under %q", authzTableHeading)
	}
	return out
}

// caller is one column of the table.
type caller struct {
	email, password, token, userID string
}

// authzFixture is a node with organisations A and B, a caller of each
// column, and camera A streaming and recorded.
type authzFixture struct {
	t       *testing.T
	e       *env
	w       world
	callers map[string]*caller
	recFrom time.Time // before camera A's recording began
	recAt   time.Time // inside its first recorded span
	n       int       // counter for unique names
	hookURL string    // a webhook receiver on 127.0.0.1
	hookID  string    // a webhook of organisation A, made on first use
	lastCam string    // the camera of the path being filled
	// openToken is the token of a share link of camera A, made on first use.
	openToken string
	siteID    string // a site of organisation A, made on first use
}

// freshHold places a hold on camera id (as admin) for a call that releases it.
func (f *authzFixture) freshHold(id string) string {
	return f.e.must(f.e.do("POST", "/api/v1/cameras/"+id+"/holds", f.w.admin,
		map[string]string{"from": f.recFrom.Format(time.RFC3339), "to": time.Now().UTC().Format(time.RFC3339), "reason": "to release"}), 201).str("id")
}

// shareLink makes a share link of camera A as its admin.
func (f *authzFixture) shareLink() resp {
	return f.e.must(f.e.do("POST", "/api/v1/cameras/"+f.w.camA+"/shares", f.w.admin, map[string]any{"live": true}), 201)
}

func newAuthzFixture(t *testing.T) *authzFixture {
	n := apptest.Start(t, append([]string{"--segment-duration", "2s"}, webhookFlags...)...)
	// Logging in again for every logout would hit the login rate limits.
	n.App.Accounts.SetLimits(auth.NewLimiter(1e6, 1e6, 1000), auth.NewLimiter(1e6, 1e6, 1000))
	e := &env{t: t, base: n.Base, app: n.App}
	f := &authzFixture{t: t, e: e, w: e.world(), callers: map[string]*caller{}, hookURL: testenv.NewHookReceiver(t).URL}
	for _, role := range []string{"owner", "admin", "operator", "viewer"} {
		f.callers[role] = &caller{email: role + "@a.example", password: "password-" + role, token: f.w.tok[role], userID: f.w.ids[role]}
	}
	f.callers["other org"] = &caller{email: "owner@b.example", password: "password-other", token: f.w.tok["other"], userID: f.w.ids["other"]}
	g := &caller{email: "granted@a.example", password: "password-granted"}
	g.userID = e.must(e.do("POST", "/api/v1/orgs/"+f.w.orgA+"/members", f.w.admin,
		map[string]string{"email": g.email, "password": g.password, "role": "viewer"}), 201).str("user_id")
	g.token = e.login(g.email, g.password)
	f.callers["viewer+grants"] = g
	f.grantAll(f.w.camA)
	pa := &caller{email: "platform@example.com", password: "password-platform"}
	u, err := n.App.Accounts.CreateUser(context.Background(), pa.email, pa.password, true)
	if err != nil {
		t.Fatal(err)
	}
	pa.userID, pa.token = u.ID, e.login(pa.email, pa.password)
	f.callers["platform admin"] = pa
	f.callers["none"] = &caller{email: "nobody@example.com", password: "not-the-password"}
	f.streamCameraA()
	return f
}

// grantAll gives the granted viewer every permission on camera id.
func (f *authzFixture) grantAll(id string) {
	f.e.must(f.e.do("PUT", "/api/v1/cameras/"+id+"/grants/"+f.callers["viewer+grants"].userID, f.w.admin,
		map[string]any{"permissions": []string{"live", "playback", "export", "manage"}}), 200)
}

// streamCameraA pushes the sample to camera A until the test ends and
// waits until something of it is recorded.
func (f *authzFixture) streamCameraA() {
	smp, err := sample.Load("../../testdata/sample-h264.ts")
	if err != nil {
		f.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = sim.Push(ctx, []string{f.w.secretURL}, smp, nil)
	}()
	f.t.Cleanup(func() { cancel(); <-done })
	f.recFrom = time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	for deadline := time.Now().Add(40 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		res := f.e.do("GET", "/api/v1/cameras/"+f.w.camA+"/recordings?from="+f.recFrom.Format(time.RFC3339), f.w.admin, nil)
		spans, _ := res.Body["spans"].([]any)
		if len(spans) > 0 && f.e.do("POST", "/api/v1/cameras/"+f.w.camA+"/live", f.w.admin, nil).Status == 200 {
			sp, _ := spans[0].(map[string]any)
			start, _ := sp["start"].(string)
			at, err := time.Parse(time.RFC3339Nano, start)
			if err != nil {
				f.t.Fatalf("span %v", sp)
			}
			f.recAt = at.Add(500 * time.Millisecond)
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatal("camera A was not streaming and recorded within 40 s")
		}
	}
}

// unique returns a new name for a created thing.
func (f *authzFixture) unique(prefix string) string {
	f.n++
	return fmt.Sprintf("%s-%d", prefix, f.n)
}

// freshCamera creates a camera of organisation A (granted to the granted
// viewer when who is that viewer).
func (f *authzFixture) freshCamera(who string) string {
	id := f.e.must(f.e.do("POST", "/api/v1/cameras", f.w.admin,
		map[string]any{"org_id": f.w.orgA, "name": f.unique("cam"), "source": map[string]string{"type": "push"}}), 201).str("id")
	if who == "viewer+grants" {
		f.grantAll(id)
	}
	return id
}

// webhook returns a webhook of organisation A: a new one to delete, else
// the same one for every call (an organisation has at most 20).
func (f *authzFixture) webhook(fresh bool) string {
	if f.hookID != "" && !fresh {
		return f.hookID
	}
	id := f.e.must(f.e.do("POST", "/api/v1/orgs/"+f.w.orgA+"/webhooks", f.w.admin,
		map[string]any{"url": f.hookURL, "enabled": false}), 201).str("id")
	if !fresh {
		f.hookID = id
	}
	return id
}

// site returns a site of organisation A, the same for every call (its
// routes may be called again and again).
func (f *authzFixture) site() string {
	if f.siteID == "" {
		f.siteID = f.e.must(f.e.do("POST", "/api/v1/sites", f.w.admin, map[string]string{"org_id": f.w.orgA, "name": "site"}), 201).str("id")
	}
	return f.siteID
}

// freshMember adds a viewer to organisation A and returns their id.
func (f *authzFixture) freshMember() string {
	return f.e.must(f.e.do("POST", "/api/v1/orgs/"+f.w.orgA+"/members", f.w.admin,
		map[string]string{"email": f.unique("member") + "@a.example", "password": "password-member", "role": "viewer"}), 201).str("user_id")
}

// freshInvitation creates an invitation for a route on invitations: to
// organisation A for a new address (the organisation's own routes), or to a
// new organisation for who's address (the invited user's routes), so that
// every caller with an account may accept or decline its own.
func (f *authzFixture) freshInvitation(path, who string) string {
	org, email := f.w.orgA, f.unique("invited")+"@a.example"
	if !strings.HasPrefix(path, "/api/v1/orgs/") {
		org = f.e.must(f.e.do("POST", "/api/v1/orgs", f.w.admin, map[string]string{"name": f.unique("inviting")}), 201).str("id")
		email = f.callers[who].email
	}
	res := f.e.must(f.e.do("POST", "/api/v1/orgs/"+org+"/members", f.w.admin, map[string]string{"email": email, "role": "viewer"}), 202)
	inv, _ := res.Body["invitation"].(map[string]any)
	id, _ := inv["id"].(string)
	if id == "" {
		f.t.Fatalf("invitation answer %s", res.Raw)
	}
	return id
}

// sessionOf returns a token of who: their session, or a new one for a call
// that ends it; "" for the caller without credentials.
func (f *authzFixture) sessionOf(who string, fresh bool) string {
	c := f.callers[who]
	if c.token == "" || !fresh {
		return c.token
	}
	return f.e.login(c.email, c.password)
}

// wildcard matches a {name} of a route pattern.
var wildcard = regexp.MustCompile(`\{[^}]*\}`)

// readOnlyPosts are POST routes on a camera that change nothing of it, so
// they run on the streaming, recorded camera A.
var readOnlyPosts = map[string]bool{
	"POST /api/v1/cameras/{id}/live":     true,
	"POST /api/v1/cameras/{id}/playback": true,
	"POST /api/v1/cameras/{id}/shares":   true,
}

// request builds the call of rt as who: method, path with every wildcard
// filled, body and bearer token.
func (f *authzFixture) request(rt httpapi.Route, who string) (method, path string, body any, token string) {
	method = rt.Method
	if method == "" {
		method = "GET"
	}
	changes := method != "GET" && method != "HEAD" && method != "OPTIONS" && !readOnlyPosts[rt.Pattern]
	token = f.sessionOf(who, rt.Pattern == "POST /api/v1/auth/logout")
	zero := strings.Repeat("0", 32)
	fill := func(w string) string {
		switch w {
		case "{id}":
			if strings.Contains(rt.Path, "/invitations/") {
				return f.freshInvitation(rt.Path, who)
			}
			if strings.Contains(rt.Path, "/webhooks/") {
				return f.webhook(method == "DELETE")
			}
			if strings.HasPrefix(rt.Path, "/api/v1/shares/") {
				return f.shareLink().str("id")
			}
			if strings.Contains(rt.Path, "/sites/") {
				return f.site()
			}
			if changes {
				f.lastCam = f.freshCamera(who)
				return f.lastCam
			}
			f.lastCam = f.w.camA
			return f.w.camA
		case "{hold}":
			return f.freshHold(f.lastCam)
		case "{user}":
			if changes {
				return f.freshMember()
			}
			return f.w.ids["viewer"]
		case "{org}":
			return f.w.orgA
		case "{camera}":
			return f.w.camA
		case "{file}":
			return "index.m3u8"
		case "{key...}":
			return "cam/" + f.w.camA + "/init/x.mp4"
		case "{key}":
			if strings.Contains(rt.Path, "/api-keys/") && token != "" {
				k, _ := f.e.must(f.e.do("POST", "/api/v1/me/api-keys", token, map[string]string{"name": "k"}), 201).Body["api_key"].(map[string]any)
				id, _ := k["id"].(string)
				return id
			}
		}
		if strings.HasSuffix(w, "...}") {
			return "x"
		}
		return zero
	}
	path = rt.Path
	if path != "/" && strings.HasSuffix(path, "/") {
		path += "x" // a catch-all: some path under it
	}
	path = wildcard.ReplaceAllStringFunc(path, fill)
	now := time.Now().UTC()
	switch rt.Pattern {
	case "GET /api/v1/cameras/{id}/recordings", "GET /api/v1/cameras/{id}/clip.mp4":
		path += "?from=" + url.QueryEscape(f.recFrom.Format(time.RFC3339)) + "&to=" + url.QueryEscape(now.Format(time.RFC3339))
	case "GET /api/v1/cameras/{id}/image":
		path += "?at=" + url.QueryEscape(f.recAt.Format(time.RFC3339Nano))
	}
	return method, path, f.body(rt.Pattern, who, now), token
}

// body is the request body of a route's call as who: valid, so that the
// answer is about who may call, not about the request.
func (f *authzFixture) body(pattern, who string, now time.Time) any {
	c := f.callers[who]
	switch pattern {
	case "POST /api/v1/auth/login":
		return map[string]string{"email": c.email, "password": c.password}
	case "POST /api/v1/me/password":
		return map[string]string{"old_password": c.password, "new_password": c.password}
	case "POST /api/v1/me/totp", "POST /api/v1/me/totp/recovery-codes":
		return map[string]string{"password": c.password}
	case "POST /api/v1/me/totp/confirm", "POST /api/v1/me/totp/disable":
		return map[string]string{"code": "000000"}
	case "POST /api/v1/me/api-keys":
		return map[string]string{"name": f.unique("key")}
	case "POST /api/v1/support/assume":
		return map[string]string{"org_id": f.w.orgA, "totp": "000000"}
	case "POST /api/v1/orgs":
		return map[string]string{"name": f.unique("org")}
	case "POST /api/v1/orgs/{org}/members":
		return map[string]string{"email": f.unique("new") + "@a.example", "password": "password-new-1", "role": "viewer"}
	case "PATCH /api/v1/orgs/{org}/members/{user}":
		return map[string]string{"role": "operator"}
	case "POST /api/v1/cameras":
		return map[string]any{"org_id": f.w.orgA, "name": f.unique("cam"), "source": map[string]string{"type": "push"}}
	case "PATCH /api/v1/cameras/{id}":
		return map[string]string{"name": f.unique("renamed")}
	case "POST /api/v1/sites":
		return map[string]string{"org_id": f.w.orgA, "name": f.unique("site")}
	case "POST /api/v1/agent/enrol":
		return map[string]string{"token": "cc_e_not-a-token"}
	case "POST /api/v1/orgs/{org}/webhooks":
		return map[string]any{"url": f.hookURL, "enabled": false}
	case "PATCH /api/v1/orgs/{org}/webhooks/{id}":
		return map[string]any{"description": f.unique("hook")}
	case "PUT /api/v1/cameras/{id}/grants/{user}":
		return map[string]any{"permissions": []string{"live"}}
	case "POST /api/v1/cameras/{id}/events":
		return map[string]string{"type": "custom.test"}
	case "POST /api/v1/cameras/{id}/playback", "POST /api/v1/cameras/{id}/shares":
		return map[string]string{"from": f.recFrom.Format(time.RFC3339), "to": now.Format(time.RFC3339)}
	case "POST /api/v1/cameras/{id}/holds":
		return map[string]string{"from": f.recFrom.Format(time.RFC3339), "to": now.Format(time.RFC3339), "reason": "authorisation test"}
	case "PATCH /api/v1/orgs/{org}":
		return map[string]int64{"storage_quota_bytes": 0}
	case "POST /api/v1/shares/open":
		if f.openToken == "" {
			f.openToken = tokenOf(f.t, f.shareLink())
		}
		return map[string]string{"token": f.openToken}
	}
	return nil
}
