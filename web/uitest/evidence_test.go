package uitest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestEvidenceUI: on the camera page, a bookmark made through the API is
// listed and marked on the timeline, one added in the page appears too,
// the search keeps the matching one; an export package of the selected
// range shows its progress until it is ready and then downloads as a zip
// of the size the job says.
func TestEvidenceUI(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: skipped with -short")
	}
	srv := startServer(t)
	cam, start := srv.recordingCamera(2*time.Second, 12*time.Second)
	srv.must(201, "POST", "/api/v1/cameras/"+cam.ID+"/bookmarks", map[string]any{"name": "Forklift tipped over", "note": "aisle 4",
		"start": start.Add(6 * time.Second).UTC().Format(time.RFC3339Nano)}, nil)

	b := newBrowser(t, srv.base)
	b.do("open the UI", chromedp.Navigate(b.base+"/"))
	b.login(adminEmail, adminPW, nil)
	b.do("open the camera", chromedp.Navigate(b.base+"/#/camera/"+cam.ID))
	b.waitJS(15*time.Second, "the bookmark listed and on the timeline", `(() => {
		const l = document.querySelector('#bookmark-list');
		return l && l.textContent.includes('Forklift tipped over') && document.querySelector('.tl-event.bookmark'); })()`)

	b.do("add a bookmark", chromedp.SendKeys(`#bookmark-name`, "Delivery truck"), chromedp.Click(`#bookmark-add`))
	b.waitJS(10*time.Second, "the new bookmark", `document.querySelectorAll('#bookmark-list li.bookmark').length === 2`)
	b.do("search", chromedp.SendKeys(`#bookmark-search`, "FORK"))
	b.waitJS(10*time.Second, "the search's one match", `(() => { const li = document.querySelectorAll('#bookmark-list li.bookmark');
		return li.length === 1 && li[0].textContent.includes('Forklift'); })()`)

	// The range: 2 s to 10 s after the start.
	local := func(t time.Time) string { return t.Local().Format("2006-01-02T15:04:05") }
	eval[bool](b, fmt.Sprintf(`(() => { for (const [id, v] of [['clip-from', %s], ['clip-to', %s]]) {
		const i = document.querySelector('#' + id); i.value = v; i.dispatchEvent(new Event('change')); } return true; })()`,
		js(local(start.Add(2*time.Second))), js(local(start.Add(10*time.Second)))))
	if !eval[bool](b, `document.querySelector('#export-evidence').checked`) {
		t.Error("a signed evidence package is not the default")
	}
	b.do("make a package", chromedp.Click(`#export-package`))
	b.waitJS(10*time.Second, "the job listed", `document.querySelectorAll('#export-jobs li[data-id]').length === 1`)
	b.waitJS(90*time.Second, "the job ready", `!!document.querySelector('#export-jobs a.export-download')`)
	b.shotFull("export-ready")
	var jobs struct {
		Exports []struct {
			ID    string
			Size  int64
			State string
		}
	}
	srv.must(200, "GET", "/api/v1/cameras/"+cam.ID+"/exports", nil, &jobs)
	if len(jobs.Exports) != 1 || jobs.Exports[0].State != "ready" {
		t.Fatalf("jobs %+v", jobs)
	}
	got := evalFor[string](b, 20*time.Second, `(async () => { const a = document.querySelector('#export-jobs a.export-download');
		const r = await fetch(a.href, { credentials: 'same-origin' }); const buf = await r.arrayBuffer();
		return r.status + ' ' + r.headers.get('Content-Type') + ' ' + buf.byteLength; })()`)
	if want := fmt.Sprintf("200 application/zip %d", jobs.Exports[0].Size); got != want {
		t.Errorf("download: %q, want %q", got, want)
	}
	if ex := b.exceptions(); len(ex) > 0 {
		t.Errorf("the page threw:\n%s", strings.Join(ex, "\n"))
	}
}
