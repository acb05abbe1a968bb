package uitest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/camcloud/camcloud/internal/testenv"
)

// tab is one headless Chromium tab with helpers that fail the test
// with what the page showed.
type tab struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string // folder of step screenshots
	n     int    // screenshots taken

	mu   sync.Mutex
	logs []string // console messages and exceptions of the page
}

// newBrowser starts Chromium with the flags known to work headless here.
func newBrowser(t *testing.T, base string, extra ...chromedp.ExecAllocatorOption) *tab {
	t.Helper()
	exe := testenv.Tool(t, "chromium")
	shots := os.Getenv("CAMCLOUD_SCREENSHOTS")
	if shots == "" {
		shots = filepath.Join(t.TempDir(), "screenshots")
	}
	if err := os.MkdirAll(shots, 0o750); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots of each step: %s", shots)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 800),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		// Hidden headless tabs must keep decoding video and running timers.
		chromedp.Flag("disable-background-timer-throttling", true), chromedp.Flag("disable-renderer-backgrounding", true),
	}
	opts = append(opts, extra...)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelA() })
	b := &tab{t: t, ctx: ctx, base: base, shots: shots}
	b.start()
	return b
}

// incognito opens a tab in a new browser context of b's Chromium, with
// none of b's cookies, storage or cache: a person without an account.
// Its screenshots are numbered from 50.
func (b *tab) incognito() *tab {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	nb := &tab{t: b.t, ctx: ctx, base: b.base, shots: b.shots, n: 50}
	nb.start()
	return nb
}

// start opens the tab and collects its console; on failure the test logs
// the console and a screenshot.
func (b *tab) start() {
	t := b.t
	if err := chromedp.Do(b.ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if err := chromedp.Listen(b.ctx, b.onEvent); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.t = t // subtests that borrowed the tab have ended
		if t.Failed() {
			b.shot("failure")
			b.mu.Lock()
			t.Logf("page console:\n%s", strings.Join(b.logs, "\n"))
			b.mu.Unlock()
		}
	})
}

func (b *tab) onEvent(ev any) {
	var line string
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		var parts []string
		for _, a := range e.Args {
			if a.Value != nil {
				parts = append(parts, string(a.Value))
			} else {
				parts = append(parts, a.Description)
			}
		}
		line = fmt.Sprintf("console.%s: %s", e.Type, strings.Join(parts, " "))
	case *cdplog.EventEntryAdded:
		// the browser's own messages: failed requests and the like
		if e.Entry == nil {
			return
		}
		line = fmt.Sprintf("log.%s: %s %s", e.Entry.Level, e.Entry.Text, e.Entry.URL)
	case *runtime.EventExceptionThrown:
		line = "exception: " + e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			line += " " + e.ExceptionDetails.Exception.Description
		}
	default:
		return
	}
	b.mu.Lock()
	b.logs = append(b.logs, line)
	b.mu.Unlock()
}

// exceptions lists uncaught exceptions the page threw.
func (b *tab) exceptions() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, l := range b.logs {
		if strings.HasPrefix(l, "exception:") {
			out = append(out, l)
		}
	}
	return out
}

// pageTo shows page n of the camera grid with its paging buttons.
func (b *tab) pageTo(n int) {
	b.t.Helper()
	b.waitJS(10*time.Second, "the grid's pager", `document.querySelector('#grid-page') && document.querySelector('#grid-page').dataset.pages`)
	for range 1000 {
		cur := eval[int](b, `+document.querySelector('#grid-page').dataset.page`)
		if cur == n {
			return
		}
		btn := "grid-next"
		if cur > n {
			btn = "grid-prev"
		}
		b.do("page "+btn, chromedp.Click(chromedp.ID(btn)))
		b.waitJS(5*time.Second, "the page to change", fmt.Sprintf(`+document.querySelector('#grid-page').dataset.page !== %d`, cur))
	}
	b.t.Fatalf("page %d not reached", n)
}

// logsWith lists the page's console and log lines that hold every one of parts.
func (b *tab) logsWith(parts ...string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
next:
	for _, l := range b.logs {
		for _, p := range parts {
			if !strings.Contains(l, p) {
				continue next
			}
		}
		out = append(out, l)
	}
	return out
}

// do runs actions with a time limit.
func (b *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	b.doFor(20*time.Second, what, actions...)
}

// doFor is do with a time limit of d, for a page that is busy (many videos
// decoding on a shared machine).
func (b *tab) doFor(d time.Duration, what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := b.tryFor(d, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// tryFor runs actions with a time limit of d and returns their error, for
// a step the test may take again.
func (b *tab) tryFor(d time.Duration, actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(b.ctx, d)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}

// eval evaluates JavaScript (awaiting promises) and decodes the result.
func eval[T any](b *tab, js string) T {
	b.t.Helper()
	return evalFor[T](b, 20*time.Second, js)
}

// evalFor is eval with a time limit of d.
func evalFor[T any](b *tab, d time.Duration, js string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, d)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitJS polls a JavaScript condition until it is true.
func (b *tab) waitJS(d time.Duration, what, js string) {
	b.t.Helper()
	if !b.untilJS(d, js) {
		b.t.Fatalf("timed out after %s waiting for %s (%s); page says: %q", d, what, js, eval[string](b, "document.body.innerText.slice(0, 600)"))
	}
}

// untilJS polls a JavaScript condition for up to d and says whether it
// became true.
func (b *tab) untilJS(d time.Duration, js string) bool {
	b.t.Helper()
	deadline := time.Now().Add(d)
	for {
		if evalFor[bool](b, max(d, 20*time.Second), "!!("+js+")") {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// shot writes a screenshot of the viewport as NN-name.png.
func (b *tab) shot(name string) string {
	b.t.Helper()
	return b.capture(name, chromedp.CaptureScreenshot())
}

// shotFull writes a screenshot of the whole page as NN-name.png.
func (b *tab) shotFull(name string) string {
	b.t.Helper()
	return b.capture(name, chromedp.FullScreenshot(100))
}

func (b *tab) capture(name string, a chromedp.Action[[]byte]) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 45*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	b.n++
	p := filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.n, name))
	if err := os.WriteFile(p, png, 0o600); err != nil {
		b.t.Error(err)
	}
	return p
}

// js quotes a Go string for JavaScript source.
func js(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// login fills the login form (and the TOTP step when code is not nil).
func (b *tab) login(email, password string, code func() string) {
	b.t.Helper()
	b.waitJS(10*time.Second, "the login form", `document.querySelector('#login-form')`)
	b.do("log in",
		chromedp.SendKeys(chromedp.ID("login-email"), email),
		chromedp.SendKeys(chromedp.ID("login-password"), password),
		chromedp.Click(chromedp.ID("login-submit")))
	if code != nil {
		b.waitJS(10*time.Second, "the TOTP step", `document.querySelector('#login-totp') && !document.querySelector('#login-totp').closest('label').hidden`)
		b.shot("login-totp")
		b.do("enter the TOTP code", chromedp.SendKeys(chromedp.ID("login-totp"), code()), chromedp.Click(chromedp.ID("login-submit")))
	}
	b.waitJS(10*time.Second, "the camera grid after login", `document.querySelector('#grid') && !document.querySelector('#top').hidden`)
}

// logout clicks "Log out" and waits for the login form.
func (b *tab) logout() {
	b.t.Helper()
	b.do("log out", chromedp.Click(chromedp.ID("logout")))
	b.waitJS(10*time.Second, "the login form after logout", `document.querySelector('#login-form') && document.querySelector('#top').hidden`)
}

// apiStatus calls the API through the UI's own module (with its CSRF
// header and cookie) and returns the HTTP status.
func (b *tab) apiStatus(method, path string, body any) int {
	b.t.Helper()
	raw := "undefined"
	if body != nil {
		bb, _ := json.Marshal(body)
		raw = string(bb)
	}
	return eval[int](b, fmt.Sprintf(`import('/assets/js/api.js').then((m) => m.request(%s, %s, %s).then(() => 200, (e) => e.status))`,
		js(method), js(path), raw))
}
