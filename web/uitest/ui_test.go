package uitest

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/testenv"
)

const (
	operator = "olivia@example.com"
	viewer   = "victor@example.com"
	totpUser = "tess@example.com"
	nCameras = 50
)

// TestBrowser walks users through the UI against a real camcloud serve with
// simulated cameras: a viewer who sees no management controls (and whom the
// API refuses anyway), a user who enrols TOTP and logs in with it, and an
// operator's day: grid, a live tile playing, the camera page, playback from
// 30 s back on the timeline, a clip download that ffprobe opens, log out.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: skipped with -short")
	}
	ffprobe := testenv.Tool(t, "ffprobe")
	srv := startServer(t, "--pull-allow", testenv.LoopbackAllow)
	f := srv.setup(nCameras, map[string]string{operator: "operator", viewer: "viewer", totpUser: "operator"})
	first, second, last := f.cameras[0], f.cameras[1], f.cameras[nCameras-1]
	for _, c := range []camera{first, second, last} {
		srv.push(c)
	}
	recStart := time.Now()
	srv.waitOnline(first)
	b := newBrowser(t, srv.base)

	// Each step starts logged out; one that fails leaves the tab in an
	// unknown state, so the rest do not run.
	_ = t.Run("viewer", func(t *testing.T) { viewerSteps(t, b, f) }) &&
		t.Run("totp", func(t *testing.T) { totpSteps(t, b) }) &&
		t.Run("day", func(t *testing.T) { daySteps(t, b, srv, first, last, recStart, ffprobe) }) &&
		t.Run("admin", func(t *testing.T) { adminSteps(t, b, srv, f.org, f.members[viewer], f.members[totpUser]) }) &&
		t.Run("webhooks", func(t *testing.T) { webhookSteps(t, b, srv, f.org) }) &&
		t.Run("holds", func(t *testing.T) { holdSteps(t, b, srv, f.org, first) })
	if ex := b.exceptions(); len(ex) > 0 {
		t.Errorf("the page threw:\n%s", strings.Join(ex, "\n"))
	}
}

// viewerSteps: a viewer sees cameras but no management, and the API
// refuses management calls made through the UI's own code; when the
// session ends the UI goes back to the login screen.
func viewerSteps(t *testing.T, b *tab, f fixture) {
	b.t = t
	b.do("open the UI", chromedp.Navigate(b.base+"/"))
	b.shot("login")
	b.login(viewer, userPW, nil)
	b.waitJS(15*time.Second, "the first page of tiles", fmt.Sprintf(`document.querySelector('#grid-count').dataset.shown === '%d' && document.querySelectorAll('#grid .tile').length === 16`, nCameras))
	nav := eval[[]string](b, `[...document.querySelectorAll('#nav a')].map((a) => a.firstChild.textContent)`)
	if !slices.Equal(nav, []string{"Cameras", "Events", "Shared links", "Account"}) {
		t.Errorf("viewer's navigation = %q, want only Cameras, Events, Shared links and Account", nav)
	}
	b.do("open a camera", chromedp.Navigate(b.base+"/#/camera/"+f.cameras[0].ID))
	b.waitJS(10*time.Second, "the camera page", `document.querySelector('#timeline')`)
	for _, sel := range []string{"#camera-settings", "#export-clip", "#add-camera"} {
		if eval[bool](b, fmt.Sprintf(`!!document.querySelector(%s)`, js(sel))) {
			t.Errorf("viewer sees management control %s", sel)
		}
	}
	if hint := eval[string](b, `document.querySelector('#timeline-hint').textContent`); strings.Contains(hint, "export") {
		t.Errorf("a viewer without export reads %q", hint)
	}
	b.shot("viewer-camera")
	// A hand-typed address of a management page shows no controls either.
	b.do("open manage page", chromedp.Navigate(b.base+"/#/manage/cameras"))
	b.waitJS(5*time.Second, "not found", `document.body.innerText.includes('Page not found')`)

	cam := f.cameras[0].ID
	refused := []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v1/cameras", map[string]any{"org_id": f.org, "name": "x", "source": map[string]string{"type": "push"}}},
		{"PATCH", "/api/v1/cameras/" + cam, map[string]any{"name": "renamed"}},
		{"DELETE", "/api/v1/cameras/" + cam, nil},
		{"POST", "/api/v1/cameras/" + cam + "/rotate-key", nil},
		{"GET", "/api/v1/cameras/" + cam + "/grants", nil},
		{"POST", "/api/v1/orgs/" + f.org + "/members", map[string]any{"email": "x@example.com", "password": userPW, "role": "admin"}},
		{"GET", "/api/v1/audit", nil},
	}
	for _, r := range refused {
		if st := b.apiStatus(r.method, r.path, r.body); st != 403 {
			t.Errorf("viewer %s %s through the UI: status %d, want 403", r.method, r.path, st)
		}
	}
	if st := b.apiStatus("GET", "/api/v1/cameras/"+cam+"/clip.mp4?from=2020-01-01T00:00:00Z&to=2020-01-01T00:01:00Z", nil); st != 403 {
		t.Errorf("viewer clip export: status %d, want 403", st)
	}

	// The session ends behind the UI's back: the next call goes to login.
	b.do("drop the session cookie", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.DeleteCookies, network.DeleteCookiesParams{Name: "camcloud_session", URL: b.base + "/"})
		return err
	}))
	b.do("open account", chromedp.Navigate(b.base+"/#/account"))
	b.waitJS(10*time.Second, "the login screen after the session ended", `document.querySelector('#login-form') && document.querySelector('#login-note')`)
	b.shot("session-ended")
}

// totpSteps: a user enrols TOTP on the account page (QR code drawn in the
// browser), logs out and logs in again with password and code.
func totpSteps(t *testing.T, b *tab) {
	b.t = t
	b.do("reload", chromedp.Navigate(b.base+"/#/"))
	b.login(totpUser, userPW, nil)
	b.do("open account", chromedp.Navigate(b.base+"/#/account"))
	b.do("begin TOTP", chromedp.SendKeys(chromedp.ID("totp-password"), userPW), chromedp.Click(chromedp.ID("totp-begin")))
	b.waitJS(10*time.Second, "the QR code", `document.querySelector('#totp-qr') && document.querySelector('#totp-qr').naturalWidth > 100`)
	secret := eval[string](b, `document.querySelector('#totp-secret').textContent`)
	url := eval[string](b, `document.querySelector('#totp-secret').dataset.url`)
	if !strings.HasPrefix(url, "otpauth://totp/") || !strings.Contains(url, secret) {
		t.Fatalf("otpauth URL %q does not carry the secret %q", url, secret)
	}
	b.shot("totp-enrol")
	// Each code works once: the login uses the next time step's code (the
	// server accepts one step of skew), as an authenticator would show it.
	step := time.Duration(0)
	code := func() string {
		c, err := auth.TOTPCode(secret, time.Now().Add(step))
		step += 30 * time.Second
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	b.do("confirm TOTP", chromedp.SendKeys(chromedp.ID("totp-code"), code()), chromedp.Click(chromedp.ID("totp-confirm")))
	b.waitJS(10*time.Second, "TOTP enabled", `document.querySelector('#totp-status')`)
	b.do("make recovery codes", chromedp.SendKeys(chromedp.ID("totp-manage-input"), userPW), chromedp.Click(chromedp.ID("totp-recovery")))
	b.waitJS(10*time.Second, "the recovery codes", `document.querySelector('dialog.secret input')`)
	if codes := strings.Fields(eval[string](b, `document.querySelector('dialog.secret input').value`)); len(codes) != 10 {
		t.Fatalf("recovery codes shown: %q", codes)
	}
	b.clickText("", "", "dialog.secret button", "Done")
	b.logout()
	b.login(totpUser, userPW, code)
	b.logout()
}

// daySteps is an operator's day.
func daySteps(t *testing.T, b *tab, srv *server, first, last camera, recStart time.Time, ffprobe string) {
	b.t = t
	b.do("reload", chromedp.Navigate(b.base+"/#/"))
	b.login(operator, userPW, nil)
	tile := func(c camera) string { return fmt.Sprintf(`document.querySelector('#grid [data-camera="%s"]')`, c.ID) }
	tileVideo := func(c camera) string {
		return fmt.Sprintf(`document.querySelector('#grid [data-camera="%s"] video')`, c.ID)
	}
	playing := func(v string) string {
		return fmt.Sprintf(`(() => { const v = %s; return v && v.videoWidth > 0 && v.currentTime > 0 ? v.currentTime : 0; })()`, v)
	}
	advances := func(what, v string) {
		b.waitJS(20*time.Second, what+" showing video", playing(v)+" > 0")
		t0 := eval[float64](b, playing(v))
		b.waitJS(10*time.Second, what+" advancing", fmt.Sprintf(`%s > %f`, playing(v), t0+0.5))
	}
	firstVideo := tileVideo(first)
	advances("the first live tile", firstVideo)
	mode := eval[string](b, tile(first)+`.dataset.mode`)
	t.Logf("live tile plays over %s", mode)
	if mode != "webrtc" && mode != "hls" {
		t.Errorf("tile mode %q, want webrtc or hls", mode)
	}
	// The last camera is on the last page: its tile is not built, so it
	// does not stream, until that page is shown.
	if eval[bool](b, "!!"+tile(last)) {
		t.Errorf("the last camera's tile is built on the first page")
	}
	b.shot("grid")
	b.pageTo(4)
	advances("the last tile once on its page", tileVideo(last))
	b.waitJS(10*time.Second, "the first tile gone with its page", "!"+tile(first))
	b.pageTo(1)

	b.do("open the camera", chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-camera="%s"]`, first.ID))))
	b.waitJS(10*time.Second, "the camera page", `document.querySelector('#player')`)
	advances("the camera's live view", `document.querySelector('#player')`)

	// Wait until 30 s back is recorded, then play it from the timeline.
	testenv.Eventually(t, 60*time.Second, "40 s of recording", func() bool {
		return srv.recordedSince(first, time.Now().Add(-40*time.Second), time.Now().Add(-25*time.Second))
	})
	t.Logf("recording covered 30 s back after %s", time.Since(recStart).Round(time.Second))
	b.do("zoom to 5 min", chromedp.Click(chromedp.CSS(`[data-zoom="300000"]`)))
	b.waitJS(5*time.Second, "the recorded span on the timeline", `document.querySelector('#timeline .tl-span')`)
	b.do("scroll to the timeline", chromedp.ScrollIntoView(chromedp.ID("timeline")))
	target := time.Now().Add(-30 * time.Second)
	box := eval[struct{ Left, Width, Top, Height, Start, End float64 }](b,
		`(() => { const e = document.querySelector('#timeline'); const r = e.getBoundingClientRect();
		  return {left: r.left, width: r.width, top: r.top, height: r.height, start: +e.dataset.viewStart, end: +e.dataset.viewEnd}; })()`)
	x := box.Left + (float64(target.UnixMilli())-box.Start)/(box.End-box.Start)*box.Width
	// One pixel is (End-Start)/Width ms: the click lands within it.
	pixel := time.Duration((box.End-box.Start)/box.Width) * time.Millisecond
	b.do("click 30 s back on the timeline", chromedp.MouseClickXY(x, box.Top+box.Height/2))
	b.waitJS(20*time.Second, "playback mode", `document.querySelector('#stage').dataset.mode === 'vod' && document.querySelector('#stage').dataset.playhead`)
	advances("the recording", `document.querySelector('#player')`)
	clicked := time.UnixMilli(int64(eval[float64](b, `+document.querySelector('#stage').dataset.target`)))
	if d := clicked.Sub(target); math.Abs(float64(d)) > float64(pixel+time.Second) {
		t.Errorf("the click asked for %s, want %s (one pixel is %s)", clicked.Format(time.TimeOnly), target.Format(time.TimeOnly), pixel)
	}
	head := time.UnixMilli(int64(eval[float64](b, `+document.querySelector('#stage').dataset.playhead`)))
	// The playhead started at the clicked instant and has played on since:
	// it lies after the click (less a GOP of 2 s) and not far beyond it.
	if d := head.Sub(clicked); d < -2500*time.Millisecond || d > 15*time.Second {
		t.Errorf("playhead at %s, %s from the clicked %s", head.Format(time.TimeOnly), d, clicked.Format(time.TimeOnly))
	}
	t.Logf("clicked %s, playhead %s", clicked.Format("15:04:05.000"), head.Format("15:04:05.000"))
	b.shotFull("camera")
	b.do("image at the playhead", chromedp.Click(chromedp.ID("image-button")))
	b.waitJS(20*time.Second, "the image", `document.querySelector('#snapshot').naturalWidth === 1280`)
	b.do("back to live", chromedp.Click(chromedp.ID("back-live")))
	b.waitJS(5*time.Second, "live mode", `document.querySelector('#stage').dataset.mode === 'live'`)
	advances("live again", `document.querySelector('#player')`)
	// In live mode the playhead is now: the image comes from the segment
	// the camera server is still writing.
	before := eval[string](b, `document.querySelector('#snapshot').src`)
	b.do("image at the live playhead", chromedp.Click(chromedp.ID("image-button")))
	b.waitJS(20*time.Second, "the image of now", fmt.Sprintf(`(() => { const i = document.querySelector('#snapshot');
	  return i.src !== %q && i.naturalWidth === 1280; })()`, before))

	// Export a 15 s clip from the recording.
	dl := t.TempDir()
	if _, err := chromedp.CallBrowser(b.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dl, EventsEnabled: new(true)}); err != nil {
		t.Fatal(err)
	}
	from, to := time.Now().Add(-40*time.Second), time.Now().Add(-25*time.Second)
	eval[bool](b, fmt.Sprintf(`import('/assets/js/dom.js').then((m) => {
		for (const [id, ms] of [['clip-from', %d], ['clip-to', %d]]) {
			const e = document.getElementById(id); e.value = m.localInput(new Date(ms)); e.dispatchEvent(new Event('change'));
		}
		return true; })`, from.UnixMilli(), to.UnixMilli()))
	b.shot("camera-export")
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	events := chromedp.BrowserEvents(ctx, browser.DownloadProgress)
	b.do("download the clip", chromedp.Click(chromedp.ID("export-clip")))
	var file string
	for ev, err := range events {
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatal("download canceled")
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			file = ev.FilePath
			if file == "" {
				file = filepath.Join(dl, ev.GUID)
			}
			break
		}
	}
	cancel()
	p := testenv.FFprobeURL(t, ffprobe, file)
	st, _ := os.Stat(file)
	t.Logf("clip %s: %d bytes, %s, %v, %d frames", filepath.Base(file), st.Size(), p.Duration, p.Codecs, p.Frames)
	if !slices.Contains(p.Codecs, "h264") || p.Duration < 13*time.Second || p.Duration > 22*time.Second || p.Frames < 300 {
		t.Errorf("clip: %+v, want about 15 s of H.264", p)
	}

	// Live over LL-HLS, as chosen on the account page.
	b.do("account", chromedp.Navigate(b.base+"/#/account"))
	b.do("choose HLS", chromedp.SetValue(chromedp.ID("live-pref"), "hls"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('live-pref').dispatchEvent(new Event('change'))`))
	b.do("camera", chromedp.Navigate(b.base+"/#/camera/"+first.ID))
	advances("the live view over HLS", `document.querySelector('#player')`)
	if m := eval[string](b, `document.querySelector('#stage').dataset.live`); m != "hls" {
		t.Errorf("live mode %q after choosing HLS, want hls", m)
	}
	b.shot("camera-live-hls")
	b.do("back to automatic", chromedp.Evaluate[chromedp.Void](`localStorage.removeItem('camcloud.live')`))

	// A phone-sized screen: no sideways scrolling, and the navigation is
	// one short bar with a menu instead of wrapped links.
	b.do("phone size", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	b.waitJS(5*time.Second, "no horizontal overflow", `document.documentElement.scrollWidth <= window.innerWidth`)
	b.shot("phone-camera")
	b.do("grid on the phone", chromedp.Navigate(b.base+"/#/"))
	b.waitJS(10*time.Second, "the grid", `document.querySelector('#grid').dataset.ready`)
	b.waitJS(5*time.Second, "no horizontal overflow on the grid", `document.documentElement.scrollWidth <= window.innerWidth`)
	if hgt := eval[float64](b, `document.querySelector('#top').getBoundingClientRect().height`); hgt > 60 {
		t.Errorf("the header is %.0f px high on a phone, want one bar", hgt)
	}
	if eval[bool](b, `!!document.querySelector('#nav a').offsetParent`) {
		t.Error("the navigation links show before the menu is opened on a phone")
	}
	b.do("open the menu", chromedp.Click(chromedp.ID("menu")))
	b.waitJS(5*time.Second, "the navigation in the menu", `[...document.querySelectorAll('#nav a')].every((a) => a.offsetParent)`)
	b.shot("phone-grid-menu")
	b.do("close the menu", chromedp.Click(chromedp.ID("menu")))
	b.do("desktop size", chromedp.EmulateViewport(1280, 800))
	b.do("grid", chromedp.Navigate(b.base+"/#/"))
	advances("the first live tile again", firstVideo)
	b.logout()
	b.shot("logged-out")
}
