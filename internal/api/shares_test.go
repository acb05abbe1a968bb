package api_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/testenv"
)

// shareFixture is the authorisation fixture (organisations A and B, a
// caller of every kind, camera A streaming and recorded) with at least
// 12 s of camera A recorded: a link's range [from, to) covers the first
// 4 s of it.
type shareFixture struct {
	*authzFixture
	from, to time.Time
}

func newShareFixture(t *testing.T) *shareFixture {
	f := &shareFixture{authzFixture: newAuthzFixture(t)}
	testenv.Eventually(t, 60*time.Second, "12 s of camera A recorded", func() bool {
		res := f.e.do("GET", "/api/v1/cameras/"+f.w.camA+"/recordings?from="+f.recFrom.Format(time.RFC3339), f.w.admin, nil)
		spans, _ := res.Body["spans"].([]any)
		if len(spans) == 0 {
			return false
		}
		sp, _ := spans[0].(map[string]any)
		start, _ := time.Parse(time.RFC3339Nano, sp["start"].(string))
		end, _ := time.Parse(time.RFC3339Nano, sp["end"].(string))
		f.from, f.to = start.Add(time.Second), start.Add(5*time.Second)
		return end.Sub(start) > 12*time.Second
	})
	return f
}

// share makes a link of camera A as who with body's settings (from and
// to filled for a range link) and returns its answer.
func (f *shareFixture) share(who string, status int, body map[string]any) resp {
	f.t.Helper()
	if body["live"] == nil && body["from"] == nil {
		body["from"], body["to"] = f.from.Format(time.RFC3339Nano), f.to.Format(time.RFC3339Nano)
	}
	return f.e.must(f.e.do("POST", "/api/v1/cameras/"+f.w.camA+"/shares", f.callers[who].token, body), status)
}

// tokenOf is the token in a link's URL (after "/s/#").
func tokenOf(t *testing.T, r resp) string {
	t.Helper()
	u := r.str("url")
	_, tok, ok := strings.Cut(u, "/s/#")
	if !ok || !strings.HasPrefix(tok, "cc_l_") {
		t.Fatalf("link url %q", u)
	}
	return tok
}

// open opens a link as an anonymous holder.
func (f *shareFixture) open(token, password string) resp {
	return f.e.do("POST", "/api/v1/shares/open", "", map[string]string{"token": token, "password": password})
}

// pathOf is the path and query of an absolute media URL of this node.
func (f *shareFixture) pathOf(u string) string {
	f.t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		f.t.Fatal(err)
	}
	return p.RequestURI()
}

// playlistEntries reads a VOD playlist's object URIs (relative to it) and
// the program date times of its segments.
func playlistEntries(body string) (uris []string, pdts []time.Time) {
	for _, l := range strings.Split(body, "\n") {
		switch {
		case strings.HasPrefix(l, "#EXT-X-PROGRAM-DATE-TIME:"):
			t, _ := time.Parse(time.RFC3339Nano, strings.TrimPrefix(l, "#EXT-X-PROGRAM-DATE-TIME:"))
			pdts = append(pdts, t)
		case strings.HasPrefix(l, "#EXT-X-MAP:URI="):
			uris = append(uris, strings.Trim(strings.TrimPrefix(l, "#EXT-X-MAP:URI="), `"`))
		case l != "" && !strings.HasPrefix(l, "#"):
			uris = append(uris, l)
		}
	}
	return uris, pdts
}

// TestShareLinks: making a link (who may, bounds), opening it without an
// account (password, view limit, expiry), what its token reaches (its
// range on the playback routes, nothing else on any media or API route),
// listing and revoking it across roles and organisations (404 for what
// one may not see), the audit of every opening, play and download, and a
// link dying with its camera.
func TestShareLinks(t *testing.T) {
	f := newShareFixture(t)
	e := f.e

	// Who may make which link, and bad input.
	f.share("viewer", 403, map[string]any{})                                     // a range needs export
	f.share("other org", 404, map[string]any{})                                  // another organisation's camera
	f.share("platform admin", 404, map[string]any{})                             // no member
	e.must(e.do("POST", "/api/v1/cameras/"+f.w.camB+"/shares", f.w.tok["owner"], // org A's owner on org B's camera
		map[string]any{"from": f.from.Format(time.RFC3339), "to": f.to.Format(time.RFC3339)}), 404)
	if r := f.share("operator", 400, map[string]any{"from": f.from.Format(time.RFC3339), "to": f.from.Add(3 * time.Hour).Format(time.RFC3339)}); r.errCode() != "range_too_long" {
		t.Errorf("a range over the export limit: %s", r.Raw)
	}
	for _, bad := range []map[string]any{
		{"expires_in": 31 * 86400},
		{"expires_in": 0},
		{"live": true, "from": f.from.Format(time.RFC3339)},
		{"password": "short"},
		{"note": "two\x00lines"},
		{"note": strings.Repeat("n", 501)},
		{"max_views": -1},
		{"from": f.to.Format(time.RFC3339), "to": f.from.Format(time.RFC3339)},
	} {
		if r := f.share("operator", 400, bad); !strings.Contains(r.errCode(), "bad_request") {
			t.Errorf("%v: %s", bad, r.Raw)
		}
	}
	liveLink := f.share("viewer", 201, map[string]any{"live": true}) // a live link needs live only
	f.share("viewer", 400, map[string]any{"live": true, "allow_download": true})

	// A range link without download, one with, and one with a password.
	plain := f.share("operator", 201, map[string]any{"note": "for the insurer"})
	if exp, _ := time.Parse(time.RFC3339, plain.str("expires_at")); time.Until(exp) < 7*24*time.Hour-time.Minute || time.Until(exp) > 7*24*time.Hour+time.Minute {
		t.Errorf("default expiry %s, want in 7 days", exp)
	}
	dl := f.share("operator", 201, map[string]any{"allow_download": true, "expires_in": 3600})
	pw := f.share("operator", 201, map[string]any{"password": "open sesame"})

	if r := f.open("cc_l_"+strings.Repeat("A", 43), ""); r.Status != 404 {
		t.Errorf("an unknown token opened: %d %s", r.Status, r.Raw)
	}
	if r := f.open(tokenOf(t, pw), ""); r.Status != 401 || r.errCode() != "password_required" {
		t.Errorf("no password: %d %s", r.Status, r.Raw)
	}
	if r := f.open(tokenOf(t, pw), "wrong one"); r.Status != 401 || r.errCode() != "wrong_password" {
		t.Errorf("a wrong password: %d %s", r.Status, r.Raw)
	}
	if r := f.open(tokenOf(t, pw), "open sesame"); r.Status != 200 {
		t.Errorf("the right password: %d %s", r.Status, r.Raw)
	}
	o := e.must(f.open(tokenOf(t, plain), ""), 200)
	if o.str("camera_name") != "front door" || o.str("shared_by") != "operator@a.example" || o.str("note") != "for the insurer" ||
		o.str("clip_url") != "" || o.Body["live"] != false {
		t.Errorf("opened %s", o.Raw)
	}
	hlsURL := o.str("hls_url")
	od := e.must(f.open(tokenOf(t, dl), ""), 200)
	clipURL := od.str("clip_url")
	if clipURL == "" {
		t.Fatalf("a link allowing downloads opened without clip_url: %s", od.Raw)
	}

	// The playlist holds the range and nothing else.
	pl := e.must(e.do("GET", f.pathOf(hlsURL), "", nil), 200)
	uris, pdts := playlistEntries(string(pl.Raw))
	if len(pdts) == 0 {
		t.Fatalf("playlist %s", pl.Raw)
	}
	for _, p := range pdts {
		if p.Before(f.from.Add(-5*time.Second)) || !p.Before(f.to) {
			t.Errorf("playlist segment at %s, outside the link's range %s..%s", p, f.from, f.to)
		}
	}
	base := f.pathOf(hlsURL)[:strings.LastIndex(f.pathOf(hlsURL), "/")+1]
	shared := 0 // media bytes served to the link's holder (metered as egress.share)
	for _, u := range uris {
		r := e.do("GET", base+u, "", nil)
		if r.Status != 200 {
			t.Errorf("object %s of the link's playlist: %d %s", u, r.Status, r.Raw)
		}
		shared += len(r.Raw)
	}
	// The objects of the whole recording, as a user's playback sees them:
	// those outside the link's range are refused to its token.
	full := e.must(e.do("POST", "/api/v1/cameras/"+f.w.camA+"/playback", f.w.admin,
		map[string]string{"from": f.recFrom.Format(time.RFC3339), "to": time.Now().UTC().Format(time.RFC3339)}), 200)
	fullPL := e.must(e.do("GET", f.pathOf(full.str("hls_url")), "", nil), 200)
	allURIs, _ := playlistEntries(string(fullPL.Raw))
	shareTok := url.Values{}
	q, _ := url.Parse(hlsURL)
	shareTok.Set("token", q.Query().Get("token"))
	outside := 0
	inLink := map[string]bool{}
	for _, u := range uris {
		inLink[strings.SplitN(u, "?", 2)[0]] = true
	}
	for _, u := range allURIs {
		key := strings.SplitN(u, "?", 2)[0]
		if inLink[key] || !strings.HasSuffix(key, ".m4s") {
			continue
		}
		outside++
		if r := e.do("GET", base+key+"?"+shareTok.Encode(), "", nil); r.Status != 403 {
			t.Errorf("an object outside the link's range (%s) with its token: %d, want 403", key, r.Status)
		}
	}
	if outside == 0 {
		t.Errorf("the recording has no segment outside the link's range: the test checks nothing (%d objects)", len(allURIs))
	}

	// Download: only with a link that allows it, and only its range.
	clip := e.do("GET", f.pathOf(clipURL), "", nil)
	if clip.Status != 200 || clip.Header.Get("Content-Type") != "video/mp4" || len(clip.Raw) < 1000 {
		t.Errorf("download: %d %s, %d bytes", clip.Status, clip.Header.Get("Content-Type"), len(clip.Raw))
	}
	if cs, _ := time.Parse(time.RFC3339Nano, clip.Header.Get("X-Camcloud-Clip-Start")); cs.Before(f.from.Add(-5 * time.Second)) {
		t.Errorf("the clip starts at %s, before the range %s", cs, f.from)
	}
	shared += len(clip.Raw)
	// Usage: what the link's holder was served counts as egress.share
	// (the segments and the download, at least; the playlist may be sent
	// compressed).
	e.app.UsageFlusher.Flush(context.Background())
	var rep struct {
		Rows []struct {
			Key    string `json:"key"`
			Egress struct {
				Share int64 `json:"share"`
			} `json:"egress"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(e.must(e.do("GET", "/api/v1/orgs/"+f.w.orgA+"/usage?group_by=camera", f.w.admin, nil), 200).Raw, &rep); err != nil {
		t.Fatal(err)
	}
	var metered int64
	for _, row := range rep.Rows {
		if row.Key == f.w.camA {
			metered = row.Egress.Share
		}
	}
	if metered < int64(shared) || metered > int64(shared+len(pl.Raw)) {
		t.Errorf("egress.share of the camera is %d bytes; the link's holder got %d (and a playlist of %d)", metered, shared, len(pl.Raw))
	}
	playTok := q.Query().Get("token")
	camPath := "/media/v1/playback/" + f.w.camA
	// A share token against every other media and API route.
	for _, c := range []struct{ path, bearer string }{
		{camPath + "/clip.mp4?token=" + url.QueryEscape(playTok), ""}, // a playback token does not download
		{"/media/v1/playback/" + f.w.camB + "/index.m3u8?token=" + url.QueryEscape(playTok), ""},
		{"/media/v1/spool/" + f.w.camA + "/segments?token=" + url.QueryEscape(playTok), ""},
		{"/media/v1/spool/" + f.w.camA + "/obj/" + strings.TrimPrefix(uris[0], "obj/"), ""},
		{"/live/v1/" + f.w.camA + "/index.m3u8?token=" + url.QueryEscape(playTok), ""},
		{camPath + "/index.m3u8?token=" + url.QueryEscape(tokenOf(t, plain)), ""}, // the link's own token is no media token
		{"/api/v1/cameras/" + f.w.camA + "/clip.mp4?from=" + f.from.Format(time.RFC3339) + "&to=" + f.to.Format(time.RFC3339), playTok},
		{"/api/v1/cameras/" + f.w.camA + "/image?at=" + f.from.Format(time.RFC3339), playTok},
		{"/api/v1/cameras/" + f.w.camA + "/recordings", tokenOf(t, plain)},
		{"/api/v1/me", tokenOf(t, plain)},
		{"/api/v1/shares", playTok},
	} {
		if r := e.do("GET", c.path, c.bearer, nil); r.Status != 401 && r.Status != 403 {
			t.Errorf("GET %s with a share's token: %d %.200s, want 401 or 403", c.path, r.Status, r.Raw)
		}
	}
	if r := e.do("POST", "/live/v1/"+f.w.camA+"/whep?token="+url.QueryEscape(playTok), "", "v=0\r\n"); r.Status != 401 && r.Status != 403 {
		t.Errorf("WHEP with a share's playback token: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/cameras/"+f.w.camA+"/playback", playTok, map[string]string{"from": f.from.Format(time.RFC3339), "to": f.to.Format(time.RFC3339)}); r.Status != 401 {
		t.Errorf("a playback session with a share's token: %d", r.Status)
	}

	// Listing: each sees what they may.
	ids := func(who string) map[string]bool {
		out := map[string]bool{}
		res := e.must(e.do("GET", "/api/v1/shares", f.callers[who].token, nil), 200)
		list, _ := res.Body["shares"].([]any)
		for _, x := range list {
			m, _ := x.(map[string]any)
			out[m["id"].(string)] = true
			if _, leak := m["token_hash"]; leak {
				t.Errorf("a listing shows the token hash: %v", m)
			}
		}
		return out
	}
	if l := ids("owner"); !l[plain.str("id")] || !l[dl.str("id")] || len(l) != 4 {
		t.Errorf("the owner lists %v", l)
	}
	if l := ids("operator"); len(l) != 3 || !l[plain.str("id")] {
		t.Errorf("the operator lists %v, want their 3 links", l)
	}
	if l := ids("viewer"); len(l) != 1 || !l[liveLink.str("id")] {
		t.Errorf("the viewer lists %v, want their live link", l)
	}
	if l := ids("other org"); len(l) != 0 {
		t.Errorf("another organisation lists %v", l)
	}
	if l := ids("viewer+grants"); len(l) != 4 { // manage on the camera
		t.Errorf("a viewer granted manage lists %v", l)
	}

	// Revocation: only by who may see the link; then at once refused.
	del := "/api/v1/shares/" + plain.str("id")
	e.must(e.do("DELETE", del, f.w.tok["viewer"], nil), 404)
	e.must(e.do("DELETE", del, f.w.tok["other"], nil), 404)
	e.must(e.do("DELETE", del, f.callers["platform admin"].token, nil), 404)
	e.must(e.do("DELETE", "/api/v1/shares/"+strings.Repeat("0", 32), f.w.tok["owner"], nil), 404)
	e.must(e.do("DELETE", del, f.w.tok["operator"], nil), 204)
	for _, p := range []string{f.pathOf(hlsURL), base + uris[len(uris)-1]} {
		if r := e.do("GET", p, "", nil); r.Status != 410 {
			t.Errorf("GET %s after revocation: %d %s, want 410", p, r.Status, r.Raw)
		}
	}
	if r := f.open(tokenOf(t, plain), ""); r.Status != 410 {
		t.Errorf("opening a revoked link: %d %s", r.Status, r.Raw)
	}
	e.must(e.do("DELETE", "/api/v1/shares/"+dl.str("id"), f.w.tok["owner"], nil), 204)
	if r := e.do("GET", f.pathOf(clipURL), "", nil); r.Status != 410 {
		t.Errorf("download after revocation: %d", r.Status)
	}

	// A live link: its LL-HLS plays, not its recordings; revoked, it is
	// refused by the camera server within 2 s.
	lo := e.must(f.open(tokenOf(t, liveLink), ""), 200)
	if lo.Body["live"] != true || lo.str("whep_url") == "" || lo.str("clip_url") != "" || lo.Body["from"] != nil {
		t.Errorf("opened a live link: %s", lo.Raw)
	}
	liveTok, _ := url.Parse(lo.str("hls_url"))
	if r := e.do("GET", camPath+"/index.m3u8?token="+url.QueryEscape(liveTok.Query().Get("token")), "", nil); r.Status != 401 {
		t.Errorf("recordings with a live link's token: %d", r.Status)
	}
	if r := e.do("GET", f.pathOf(lo.str("hls_url")), "", nil); r.Status != 200 {
		t.Errorf("a live link's LL-HLS: %d %.200s", r.Status, r.Raw)
	}
	e.must(e.do("DELETE", "/api/v1/shares/"+liveLink.str("id"), f.w.tok["viewer"], nil), 204)
	testenv.Eventually(t, 2*time.Second, "the revoked live link refused", func() bool {
		return e.do("GET", f.pathOf(lo.str("hls_url")), "", nil).Status == 410
	})

	// A view limit, and an expiry.
	once := f.share("operator", 201, map[string]any{"max_views": 1})
	e.must(f.open(tokenOf(t, once), ""), 200)
	if r := f.open(tokenOf(t, once), ""); r.Status != 410 {
		t.Errorf("the second opening of a link for one view: %d %s", r.Status, r.Raw)
	}
	short := f.share("operator", 201, map[string]any{"expires_in": 1})
	time.Sleep(1100 * time.Millisecond)
	if r := f.open(tokenOf(t, short), ""); r.Status != 410 {
		t.Errorf("opening an expired link: %d %s", r.Status, r.Raw)
	}

	// Every opening, play and download is audited with the address.
	audit := e.must(e.do("GET", "/api/v1/audit?camera="+f.w.camA+"&limit=5000", f.w.tok["owner"], nil), 200)
	seen := map[string]int{}
	entries, _ := audit.Body["entries"].([]any)
	for _, x := range entries {
		m, _ := x.(map[string]any)
		a, _ := m["action"].(string)
		if strings.HasPrefix(a, "share.") {
			seen[a]++
			if m["address"] != "127.0.0.1" {
				t.Errorf("audit %v has no source address", m)
			}
		}
	}
	for a, n := range map[string]int{"share.create": 6, "share.open": 5, "share.play": 1, "share.download": 1, "share.revoke": 3, "share.password_failed": 1} {
		if seen[a] < n {
			t.Errorf("audit has %d %s entries, want at least %d (all: %v)", seen[a], a, n, seen)
		}
	}

	// A link dies with its camera.
	cam := f.freshCamera("owner")
	gone := e.must(e.do("POST", "/api/v1/cameras/"+cam+"/shares", f.w.tok["owner"], map[string]any{"live": true}), 201)
	e.must(e.do("DELETE", "/api/v1/cameras/"+cam, f.w.tok["owner"], nil), 204)
	if r := f.open(tokenOf(t, gone), ""); r.Status != 404 {
		t.Errorf("a link of a deleted camera: %d %s", r.Status, r.Raw)
	}
}
