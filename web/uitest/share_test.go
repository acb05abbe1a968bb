package uitest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestShareLink: a member makes a link of a recorded range in the camera
// page's share dialog; a person with no account opens it in a fresh
// browser context: it says what it shows, plays only that range (the
// player cannot seek outside it) and downloads the clip. Revoked on the
// shared-links page, the same page is refused at its next request; an
// expired link is refused; a link's password is asked for and checked.
func TestShareLink(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: skipped with -short")
	}
	srv := startServer(t)
	cam, start := srv.recordingCamera(3*time.Second, 20*time.Second)
	from, to := start.Add(6*time.Second).Truncate(time.Second), start.Add(14*time.Second).Truncate(time.Second)

	b := newBrowser(t, srv.base)
	b.do("open the UI", chromedp.Navigate(b.base+"/"))
	b.login(adminEmail, adminPW, nil)
	url := createInDialog(t, b, cam, from, to)
	anon := b.incognito()
	_ = t.Run("holder", func(t *testing.T) { holderSteps(t, anon, url, cam, from, to) }) &&
		t.Run("revoke", func(t *testing.T) { revokeSteps(t, b, anon, url) }) &&
		t.Run("expired and password", func(t *testing.T) { expiryPasswordSteps(t, srv, anon, cam, from, to) })
	for _, tb := range []*tab{b, anon} {
		tb.t = t
		if ex := tb.exceptions(); len(ex) > 0 {
			t.Errorf("the page threw:\n%s", strings.Join(ex, "\n"))
		}
	}
}

// createInDialog makes a link of [from, to) that allows downloads in the
// camera page's dialog and returns the link shown.
func createInDialog(t *testing.T, b *tab, cam camera, from, to time.Time) string {
	b.do("open the camera", chromedp.Navigate(b.base+"/#/camera/"+cam.ID))
	b.waitJS(15*time.Second, "the export card", `document.querySelector('#share-range') && document.querySelector('#clip-from')`)
	eval[bool](b, fmt.Sprintf(`import('/assets/js/dom.js').then((m) => {
		document.querySelector('#clip-from').value = m.localInput(new Date(%d));
		document.querySelector('#clip-to').value = m.localInput(new Date(%d));
		return true; })`, from.UnixMilli(), to.UnixMilli()))
	b.do("open the share dialog", chromedp.Click(chromedp.ID("share-range")))
	b.waitJS(5*time.Second, "the share dialog", `document.querySelector('dialog.share-dialog[open]')`)
	b.do("allow downloads", chromedp.Click(chromedp.ID("share-download-allowed")),
		chromedp.SendKeys(chromedp.ID("share-note-input"), "forklift incident"))
	b.shot("share-dialog")
	b.do("create the link", chromedp.Click(chromedp.ID("share-create")))
	b.waitJS(10*time.Second, "the link shown once", `document.querySelector('dialog.secret[open]') && document.querySelector('dialog.secret').dataset.shareUrl`)
	b.shot("share-created")
	url := eval[string](b, `document.querySelector('dialog.secret').dataset.shareUrl`)
	if !strings.Contains(url, "/s/#cc_l_") {
		t.Fatalf("link %q", url)
	}
	b.do("close the dialog", chromedp.Click(`dialog.secret button.primary`))
	return url
}

// holderSteps: the link plays its range and nothing else, and downloads.
func holderSteps(t *testing.T, b *tab, url string, cam camera, from, to time.Time) {
	b.t = t
	b.do("open the link", chromedp.Navigate(url))
	if st := eval[int](b, `fetch('/api/v1/me').then((r) => r.status)`); st != 401 || eval[string](b, `document.cookie`) != "" {
		t.Fatalf("the fresh context is logged in (%d) or has cookies", st)
	}
	video := `document.querySelector('#share-video')`
	b.waitJS(45*time.Second, "the range playing", video+` && `+video+`.currentTime > 0.5 && `+video+`.readyState >= 2`)
	b.shot("share-playing")
	title := eval[string](b, `document.querySelector('#share-title').textContent`)
	by := eval[string](b, `document.querySelector('#share-by').textContent`)
	if !strings.HasPrefix(title, cam.Name+", ") || !strings.Contains(by, "Shared by "+adminEmail) {
		t.Errorf("the page says %q, %q", title, by)
	}
	if note := eval[string](b, `document.querySelector('#share-note').textContent`); note != "forklift incident" {
		t.Errorf("note %q", note)
	}
	// The media timeline is the range (from the keyframe at or before
	// from: up to a GOP, 2 s, earlier): seeking past it stays inside.
	dur := eval[float64](b, video+`.duration`)
	want := to.Sub(from).Seconds()
	if dur < want-0.5 || dur > want+2.5 {
		t.Errorf("the shared video lasts %.1f s, the range %.1f s", dur, want)
	}
	got := eval[float64](b, `(async () => { const v = `+video+`; v.currentTime = 3600; await new Promise((r) => setTimeout(r, 500)); return v.currentTime; })()`)
	if got > dur+0.01 {
		t.Errorf("seeking an hour ahead moved the playhead to %.1f s, past the range's %.1f s", got, dur)
	}
	if end := eval[float64](b, video+`.seekable.length ? `+video+`.seekable.end(`+video+`.seekable.length - 1) : 0`); end > want+2.5 {
		t.Errorf("seekable up to %.1f s, the range is %.1f s", end, want)
	}
	// The download.
	res := eval[string](b, `fetch(document.querySelector('#share-download').href).then(async (r) => r.status + ' ' + r.headers.get('content-type') + ' ' + (await r.arrayBuffer()).byteLength)`)
	var status, size int
	var ctype string
	if _, err := fmt.Sscanf(res, "%d %s %d", &status, &ctype, &size); err != nil || status != 200 || ctype != "video/mp4" || size < 10000 {
		t.Errorf("download: %q", res)
	}
}

// revokeSteps: revoked on the shared-links page, the link's media and the
// page itself are refused at their next request.
func revokeSteps(t *testing.T, admin, anon *tab, url string) {
	admin.t, anon.t = t, t
	admin.do("open the shared links", chromedp.Navigate(admin.base+"/#/shares"))
	admin.waitJS(10*time.Second, "the link listed", `document.querySelector('#shares-table [data-revoke]')`)
	admin.shot("shared-links")
	admin.do("revoke", chromedp.Click(`#shares-table [data-revoke]`))
	admin.waitJS(5*time.Second, "the confirmation", `document.querySelector('dialog.confirm[open]')`)
	admin.do("confirm", chromedp.Click(`dialog.confirm button.danger`))
	admin.waitJS(10*time.Second, "the link revoked", `document.querySelector('#shares-table [data-state="revoked"]')`)
	if st := eval[int](anon, `fetch(document.querySelector('#share-download').href).then((r) => r.status)`); st != 410 {
		t.Errorf("the download after revocation answered %d, want 410", st)
	}
	anon.do("reload the link", chromedp.Navigate("about:blank"), chromedp.Navigate(url))
	anon.waitJS(10*time.Second, "the link refused", `document.querySelector('[data-share-state="refused"]')`)
	if msg := eval[string](anon, `document.querySelector('.share-refused').textContent`); !strings.Contains(msg, "revoked") {
		t.Errorf("the revoked link's page says %q", msg)
	}
	if eval[bool](anon, `!!document.querySelector('video')`) {
		t.Error("the revoked link's page shows a player")
	}
	anon.shot("share-revoked")
}

// expiryPasswordSteps: an expired link is refused; a password link asks
// for it, refuses a wrong one and plays with the right one (no download
// offered when not allowed).
func expiryPasswordSteps(t *testing.T, srv *server, anon *tab, cam camera, from, to time.Time) {
	anon.t = t
	link := func(body map[string]any) string {
		body["from"], body["to"] = from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339)
		var r struct{ URL string }
		srv.must(201, "POST", "/api/v1/cameras/"+cam.ID+"/shares", body, &r)
		return r.URL
	}
	expired := link(map[string]any{"expires_in": 1})
	time.Sleep(1200 * time.Millisecond)
	anon.do("open an expired link", chromedp.Navigate("about:blank"), chromedp.Navigate(expired))
	anon.waitJS(10*time.Second, "the expired link refused", `document.querySelector('[data-share-state="refused"]')`)
	if msg := eval[string](anon, `document.querySelector('.share-refused').textContent`); !strings.Contains(msg, "expired") {
		t.Errorf("the expired link's page says %q", msg)
	}
	anon.shot("share-expired")

	locked := link(map[string]any{"password": "gate-2026"})
	anon.do("open a password link", chromedp.Navigate("about:blank"), chromedp.Navigate(locked))
	anon.waitJS(10*time.Second, "the password form", `document.querySelector('form.share-password input[type=password]')`)
	if eval[bool](anon, `!!document.querySelector('video')`) {
		t.Error("a player before the password was given")
	}
	anon.do("a wrong password", chromedp.SendKeys(`form.share-password input`, "not-it"),
		chromedp.Click(`form.share-password button[type=submit]`))
	anon.waitJS(10*time.Second, "the wrong password refused", `document.querySelector('form.share-password .error:not([hidden])')`)
	anon.shot("share-wrong-password")
	anon.do("the right password", chromedp.SendKeys(`form.share-password input`, "gate-2026"),
		chromedp.Click(`form.share-password button[type=submit]`))
	video := `document.querySelector('#share-video')`
	anon.waitJS(45*time.Second, "the protected range playing", video+` && `+video+`.currentTime > 0.5`)
	if eval[bool](anon, `!!document.querySelector('#share-download')`) {
		t.Error("a download offered by a link that does not allow it")
	}
}
