package uitest

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/camcloud/camcloud/internal/testenv"
)

// TestOfflineReasonAndAPIReference: a pull camera aimed at a closed port
// says "connection refused" on its tile and its page, with since when;
// the Account page links to the API reference, which lists every route
// the server registers from its OpenAPI document, filters them, and loads
// nothing from other sites.
func TestOfflineReasonAndAPIReference(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: skipped with -short")
	}
	srv := startServer(t, "--pull-allow", testenv.LoopbackAllow)
	f := srv.setup(0, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	var cam camera
	srv.must(201, "POST", "/api/v1/cameras", map[string]any{"org_id": f.org, "name": "Yard",
		"source": map[string]string{"type": "pull", "url": "rtsp://" + closed + "/yard"}}, &cam)

	testenv.Eventually(t, 30*time.Second, "the first pull attempt to fail", func() bool {
		var c struct{ Status map[string]any }
		srv.must(200, "GET", "/api/v1/cameras/"+cam.ID, nil, &c)
		return c.Status["offline_reason"] != nil
	})

	b := newBrowser(t, srv.base)
	b.do("open the UI", chromedp.Navigate(b.base+"/"))
	b.login(adminEmail, adminPW, nil)
	tile := fmt.Sprintf(`document.querySelector('#grid [data-camera="%s"]')`, cam.ID)
	b.waitJS(30*time.Second, "connection refused on the tile", tile+` && `+tile+`.textContent.includes('connection refused')`)
	if note := eval[string](b, tile+`.textContent`); !strings.Contains(note, "offline since ") {
		t.Errorf("the tile says %q, want since when it is offline", note)
	}
	b.shot("tile-offline-reason")
	b.do("open the camera page", chromedp.Navigate(b.base+"/#/camera/"+cam.ID))
	b.waitJS(20*time.Second, "the reason on the camera page",
		`document.querySelector('#camera-status') && document.querySelector('#camera-status').textContent.includes('connection refused')`)

	b.do("open the account page", chromedp.Navigate(b.base+"/#/account"))
	b.waitJS(20*time.Second, "the API reference link", `!!document.querySelector('#api-reference')`)
	b.do("follow it", chromedp.Click(chromedp.ID("api-reference")))
	routes := len(srv.node.App.HTTP.Routes())
	b.waitJS(20*time.Second, "every route in the reference", fmt.Sprintf(`document.querySelectorAll('#apiref .apiref-op').length === %d`, routes))
	missing := eval[[]string](b, `(() => { const have = new Set([...document.querySelectorAll('#apiref .apiref-op')].map((o) => o.dataset.route)); return `+
		jsRoutes(srv)+`.filter((r) => !have.has(r)); })()`)
	if len(missing) != 0 {
		t.Errorf("routes missing from the reference: %v", missing)
	}
	b.do("filter by audit", chromedp.SendKeys(chromedp.ID("apiref-filter"), "audit log"))
	b.waitJS(5*time.Second, "the filtered list", `(() => { const v = [...document.querySelectorAll('#apiref .apiref-op')].filter((o) => !o.hidden);
		return v.length > 0 && v.length < 10 && v.some((o) => o.dataset.route === 'GET /api/v1/audit'); })()`)
	b.do("open the audit operation", chromedp.Click(chromedp.CSS(`#apiref .apiref-op[data-route="GET /api/v1/audit"] summary`)))
	b.waitJS(5*time.Second, "its answer fields", `document.querySelector('#apiref .apiref-op[data-route="GET /api/v1/audit"]').open &&
		document.querySelector('#apiref .apiref-op[data-route="GET /api/v1/audit"]').textContent.includes('entries')`)
	b.shot("api-reference")
	other := eval[[]string](b, `performance.getEntriesByType('resource').map((e) => e.name).filter((u) => !u.startsWith(location.origin))`)
	if len(other) != 0 {
		t.Errorf("the UI loaded from other sites: %v", other)
	}
	if ex := b.exceptions(); len(ex) != 0 {
		t.Errorf("page exceptions: %v", ex)
	}
}

// jsRoutes is the server's registered route patterns as a JS array.
func jsRoutes(srv *server) string {
	var parts []string
	for _, r := range srv.node.App.HTTP.Routes() {
		parts = append(parts, js(r.Pattern))
	}
	return "[" + strings.Join(parts, ",") + "]"
}
