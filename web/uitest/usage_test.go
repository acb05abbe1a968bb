package uitest

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/camcloud/camcloud/internal/usage"
)

// TestLabelsAndUsage: an owner sets a camera's labels in the manage page,
// filters the grid by a label and groups it by a label key, and reads the
// organisation's usage page: bars per day stacked by kind, the top
// cameras, and a CSV link.
func TestLabelsAndUsage(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: skipped with -short")
	}
	srv := startServer(t)
	f := srv.setup(3, nil)
	c1, c2, c3 := f.cameras[0], f.cameras[1], f.cameras[2]
	srv.must(200, "PATCH", "/api/v1/cameras/"+c2.ID, map[string]any{"labels": map[string]string{"site": "shibuya"}}, nil)
	srv.must(200, "PATCH", "/api/v1/cameras/"+c3.ID, map[string]any{"labels": map[string]string{"site": "ebisu"}}, nil)
	b := newBrowser(t, srv.base)
	b.do("open", chromedp.Navigate(srv.base+"/#/"))
	b.login(adminEmail, adminPW, nil)

	// Labels set in the manage page.
	b.do("manage", chromedp.Navigate(srv.base+"/#/manage/cameras"))
	b.waitJS(10*time.Second, "the camera rows", `document.querySelectorAll('.cam-row').length === 3`)
	b.clickText(".cam-row", "Cam 01", "button", "Edit")
	b.waitJS(5*time.Second, "the edit form", `document.querySelector('.cam-row form input[name=labels]')`)
	b.do("labels", chromedp.SendKeys(`.cam-row form input[name=labels]`, "site=shibuya, cost-center=retail"))
	b.clickText(".cam-row form", "", "button", "Save")
	b.waitJS(10*time.Second, "the label chips", `[...document.querySelectorAll('.cam-row')].some((r) => r.textContent.includes('Cam 01') && r.textContent.includes('cost-center=retail'))`)
	var cam struct{ Labels map[string]string }
	srv.must(200, "GET", "/api/v1/cameras/"+c1.ID, nil, &cam)
	if want := map[string]string{"site": "shibuya", "cost-center": "retail"}; !reflect.DeepEqual(cam.Labels, want) {
		t.Errorf("labels stored from the UI: %v, want %v", cam.Labels, want)
	}
	// A label without "=": refused in words, nothing sent.
	b.clickText(".cam-row", "Cam 02", "button", "Edit")
	b.waitJS(5*time.Second, "the edit form", `document.querySelector('.cam-row form input[name=labels]')`)
	eval[bool](b, `(() => { document.querySelector('.cam-row form input[name=labels]').value = 'site=shibuya, nosign'; return true; })()`)
	b.clickText(".cam-row form", "", "button", "Save")
	b.waitJS(5*time.Second, "the refusal", `[...document.querySelectorAll('.cam-row form .error')].some((e) => !e.hidden && e.textContent.includes('key=value'))`)

	// The grid: filtered by a label, grouped by a key.
	b.do("grid", chromedp.Navigate(srv.base+"/#/"))
	b.waitJS(10*time.Second, "the grid", `document.querySelector('#grid').dataset.ready === 'true' && document.querySelector('#grid-count').dataset.shown === '3'`)
	eval[bool](b, `(() => { const s = document.querySelector('#grid-label'); s.value = 'site=shibuya'; s.dispatchEvent(new Event('change')); return true; })()`)
	b.waitJS(5*time.Second, "two cameras at site=shibuya", `document.querySelector('#grid-count').dataset.shown === '2'`)
	eval[bool](b, `(() => { const s = document.querySelector('#grid-label'); s.value = ''; s.dispatchEvent(new Event('change'));
		const g = document.querySelector('#grid-group'); g.value = 'site'; g.dispatchEvent(new Event('change')); return true; })()`)
	b.waitJS(5*time.Second, "headings per site", `[...document.querySelectorAll('#grid .group-head')].map((e) => e.textContent).join('|') === 'site: ebisu|site: shibuya'`)
	order := eval[string](b, `[...document.querySelectorAll('#grid > *')].map((e) => e.classList.contains('group-head') ? '#' + e.dataset.group : e.dataset.camera).join(',')`)
	if want := "#ebisu," + c3.ID + ",#shibuya," + c1.ID + "," + c2.ID; order != want {
		t.Errorf("grouped grid: %s, want %s", order, want)
	}
	b.shot("grid-grouped")
	b.do("a site's link", chromedp.Navigate(srv.base+"/#/?label=site%3Debisu"))
	b.waitJS(10*time.Second, "the grid of site=ebisu", `document.querySelector('#grid-label').value === 'site=ebisu' && document.querySelector('#grid-count').dataset.shown === '1'`)

	// Usage: what a node counted, once flushed.
	m := srv.node.App.Usage
	m.Add("local", f.org, c1.ID, usage.EgressVOD, 3_000_000)
	m.Add("local", f.org, c1.ID, usage.EgressWebRTC, 1_000_000)
	m.Add("local", f.org, c3.ID, usage.EgressClip, 500_000)
	srv.node.App.UsageFlusher.Flush(context.Background())
	b.do("usage", chromedp.Navigate(srv.base+"/#/manage/usage"))
	b.waitJS(10*time.Second, "today's bar", `[...document.querySelectorAll('#usage-chart .usage-day')].some((g) => g.dataset.bytes === '4500000' && g.querySelectorAll('rect').length === 3)`)
	if n := eval[int](b, `document.querySelectorAll('#usage-chart .usage-day').length`); n != 30 {
		t.Errorf("%d days drawn, want 30", n)
	}
	top := eval[string](b, `[...document.querySelectorAll('#usage-top tbody tr')].map((r) => r.dataset.key).join(',')`)
	if top != c1.ID+","+c3.ID {
		t.Errorf("top cameras %s, want %s,%s", top, c1.ID, c3.ID)
	}
	if href := eval[string](b, `document.querySelector('#usage-csv').href`); !strings.Contains(href, "format=csv") {
		t.Errorf("CSV link %q", href)
	}
	eval[bool](b, `(() => { const s = document.querySelector('#usage-group'); s.value = 'label:site'; s.dispatchEvent(new Event('change')); return true; })()`)
	b.waitJS(10*time.Second, "usage by site", `[...document.querySelectorAll('#usage-top tbody tr')].map((r) => r.dataset.key).join(',') === 'shibuya,ebisu'`)
	b.shot("usage")
	if ex := b.exceptions(); len(ex) > 0 {
		t.Errorf("the page threw:\n%s", strings.Join(ex, "\n"))
	}
}
