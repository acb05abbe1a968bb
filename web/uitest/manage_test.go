package uitest

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"testing"

	"github.com/chromedp/chromedp"

	"github.com/camcloud/camcloud/internal/testenv"
)

// clickText clicks the first element matching sel whose text is text,
// inside the first element matching rowSel that contains rowText (or
// anywhere when rowSel is empty).
func (b *tab) clickText(rowSel, rowText, sel, text string) {
	b.t.Helper()
	ok := eval[bool](b, fmt.Sprintf(`(() => {
		const root = %s ? [...document.querySelectorAll(%s)].find((e) => e.textContent.includes(%s)) : document;
		const el = root && [...root.querySelectorAll(%s)].find((e) => e.textContent.trim() === %s);
		if (el) el.click();
		return !!el; })()`, js(rowSel), js(rowSel), js(rowText), js(sel), js(text)))
	if !ok {
		b.t.Fatalf("no %s %q to click", sel, text)
	}
}

// adminSteps: an organisation owner adds a camera (ingest URLs shown
// once), rotates its key, grants a viewer export on it, deletes it with
// confirmation, and reads members and the audit log.
func adminSteps(t *testing.T, b *tab, srv *server, orgID, viewerID, tessID string) {
	b.t = t
	b.do("reload", chromedp.Navigate(b.base+"/#/"))
	b.login(adminEmail, adminPW, nil)
	nav := eval[[]string](b, `[...document.querySelectorAll('#nav a')].map((a) => a.firstChild.textContent)`)
	if !slices.Equal(nav, []string{"Cameras", "Events", "Manage cameras", "Members", "Audit log", "Webhooks", "Usage", "Sites", "Shared links", "Account"}) {
		t.Errorf("owner's navigation = %q", nav)
	}
	b.do("manage cameras", chromedp.Navigate(b.base+"/#/manage/cameras"))
	b.waitJS(10*time.Second, "the add form", `document.querySelector('#add-camera')`)
	b.do("add a camera", chromedp.SendKeys(chromedp.ID("new-camera-name"), "Porch"),
		chromedp.Click(chromedp.CSS(`#add-camera button[type=submit]`)))
	b.waitJS(10*time.Second, "the ingest URLs", `document.querySelector('dialog.secret input') && document.querySelector('dialog.secret input').value.startsWith('rtsp://')`)
	first := eval[string](b, `document.querySelector('dialog.secret input').value`)
	b.shot("manage-add-camera")
	b.clickText("", "", "dialog.secret button", "Done")
	b.waitJS(10*time.Second, "the new camera's row", `[...document.querySelectorAll('.cam-row')].some((r) => r.textContent.includes('Porch'))`)
	var cams struct {
		Cameras []struct{ ID, Name string } `json:"cameras"`
	}
	srv.must(200, "GET", "/api/v1/cameras", nil, &cams)
	porch := ""
	for _, c := range cams.Cameras {
		if c.Name == "Porch" {
			porch = c.ID
		}
	}
	if porch == "" || !strings.Contains(first, porch) {
		t.Fatalf("camera Porch not created (ingest URL %q)", first)
	}

	b.clickText(".cam-row", "Porch", "button", "Rotate key")
	b.waitJS(5*time.Second, "the confirmation", `document.querySelector('dialog.confirm')`)
	b.clickText("", "", "dialog.confirm button", "Rotate key")
	b.waitJS(10*time.Second, "new ingest URLs", fmt.Sprintf(`document.querySelector('dialog.secret input') && document.querySelector('dialog.secret input').value !== %s`, js(first)))
	b.clickText("", "", "dialog.secret button", "Done")

	b.clickText(".cam-row", "Porch", "button", "Access")
	b.waitJS(10*time.Second, "the grants table", `[...document.querySelectorAll('.cam-row tr')].some((r) => r.textContent.includes('victor'))`)
	eval[bool](b, `(() => { const row = [...document.querySelectorAll('.cam-row tr')].find((r) => r.textContent.includes('victor'));
		row.querySelector('input[value=export]').click(); row.querySelector('button').click(); return true; })()`)
	testenv.Eventually(t, 10*time.Second, "the grant", func() bool {
		var g struct {
			Grants []struct {
				UserID      string   `json:"user_id"`
				Permissions []string `json:"permissions"`
			} `json:"grants"`
		}
		srv.must(200, "GET", "/api/v1/cameras/"+porch+"/grants", nil, &g)
		return len(g.Grants) == 1 && g.Grants[0].UserID == viewerID && slices.Equal(g.Grants[0].Permissions, []string{"export"})
	})
	b.shot("manage-grants")

	// The motion detection setting: shown in the row, set in the edit form.
	b.waitJS(5*time.Second, "the motion setting in the row", `[...document.querySelectorAll('.cam-row')].some((r) => r.textContent.includes('Porch') && r.textContent.includes('motion 5'))`)
	b.clickText(".cam-row", "Porch", "button", "Edit")
	b.waitJS(5*time.Second, "the edit form", `document.querySelector('.cam-row select[name=motion]')`)
	eval[bool](b, `(() => { const s = document.querySelector('.cam-row select[name=motion]'); s.value = '8';
		s.closest('form').querySelector('button[type=submit]').click(); return true; })()`)
	testenv.Eventually(t, 10*time.Second, "the motion sensitivity saved", func() bool {
		var c struct {
			Motion struct {
				Enabled     bool `json:"enabled"`
				Sensitivity int  `json:"sensitivity"`
			} `json:"motion"`
		}
		srv.must(200, "GET", "/api/v1/cameras/"+porch, nil, &c)
		return c.Motion.Enabled && c.Motion.Sensitivity == 8
	})
	b.waitJS(10*time.Second, "the new setting in the row", `[...document.querySelectorAll('.cam-row')].some((r) => r.textContent.includes('Porch') && r.textContent.includes('motion 8'))`)

	b.clickText(".cam-row", "Porch", "button", "Delete")
	b.waitJS(5*time.Second, "the confirmation", `document.querySelector('dialog.confirm')`)
	b.clickText("", "", "dialog.confirm button", "Cancel")
	if code := srv.call("GET", "/api/v1/cameras/"+porch, nil, nil); code != 200 {
		t.Fatalf("camera gone after Cancel: %d", code)
	}
	b.clickText(".cam-row", "Porch", "button", "Delete")
	b.clickText("", "", "dialog.confirm button", "Delete")
	testenv.Eventually(t, 10*time.Second, "the camera deleted", func() bool { return srv.call("GET", "/api/v1/cameras/"+porch, nil, nil) == 404 })
	b.waitJS(10*time.Second, "the row gone", `![...document.querySelectorAll('.cam-row')].some((r) => r.textContent.includes('Porch'))`)

	pullSteps(t, b, srv)

	b.do("members", chromedp.Navigate(b.base+"/#/manage/members"))
	b.waitJS(10*time.Second, "the members", `document.querySelector('#members') && document.querySelector('#members').textContent.includes('victor@example.com')`)
	if org := eval[string](b, `document.querySelector('#members-org').selectedOptions[0]?.textContent || ''`); org != "Acme" {
		t.Errorf("organisation picker shows %q, want Acme", org)
	}
	eval[bool](b, `(() => { const s = [...document.querySelectorAll('#members tr')].find((r) => r.textContent.includes('tess@')).querySelector('select');
		s.value = 'viewer'; s.dispatchEvent(new Event('change')); return true; })()`)
	testenv.Eventually(t, 10*time.Second, "tess to become a viewer", func() bool {
		var m struct{ Role string }
		srv.must(200, "GET", "/api/v1/orgs/"+orgID+"/members/"+tessID, nil, &m)
		return m.Role == "viewer"
	})
	b.shot("members")

	b.do("audit", chromedp.Navigate(b.base+"/#/manage/audit"))
	b.waitJS(10*time.Second, "audit entries", `document.querySelector('#audit')`)
	b.do("filter by actor", chromedp.SendKeys(chromedp.ID("audit-actor"), operator))
	b.clickText("", "", "form button", "Show")
	b.waitJS(10*time.Second, "the operator's export in the audit log", fmt.Sprintf(
		`(() => { const rows = [...document.querySelectorAll('#audit tbody tr')]; return rows.length > 0 && rows.every((r) => r.children[1].textContent.startsWith(%s)) && rows.some((r) => r.children[2].textContent === 'media.export'); })()`,
		js(operator)))
	b.shot("audit")
	b.logout()
}

// pullSteps: adding a pull camera shows no push URLs or secret; switching
// it to push hands them out at once.
func pullSteps(t *testing.T, b *tab, srv *server) {
	b.do("name the pull camera", chromedp.SendKeys(chromedp.ID("new-camera-name"), "Yard"))
	eval[bool](b, `(() => { const f = document.querySelector('#add-camera'); const s = f.querySelector('select[name=source]');
		s.value = 'pull'; s.dispatchEvent(new Event('change')); return true; })()`)
	b.do("its URL", chromedp.SendKeys(chromedp.CSS(`#add-camera input[name=url]`), "rtsp://127.0.0.1:1/yard"))
	b.do("add it", chromedp.Click(chromedp.CSS(`#add-camera button[type=submit]`)))
	b.waitJS(10*time.Second, "the pull camera's row", `[...document.querySelectorAll('.cam-row')].some((r) => r.textContent.includes('Yard'))`)
	b.waitJS(5*time.Second, "the note that camcloud pulls it", `!document.querySelector('#banner').hidden && document.querySelector('#banner').textContent.includes('pulls')`)
	if eval[bool](b, `!!document.querySelector('dialog.secret')`) {
		t.Fatal("adding a pull camera shows push ingest URLs")
	}
	b.shot("manage-add-pull")
	b.clickText(".cam-row", "Yard", "button", "Edit")
	b.waitJS(5*time.Second, "the edit form", `document.querySelector('.cam-row form select[name=source]')`)
	eval[bool](b, `(() => { const s = document.querySelector('.cam-row form select[name=source]'); s.value = 'push';
		s.dispatchEvent(new Event('change')); s.closest('form').querySelector('button[type=submit]').click(); return true; })()`)
	b.waitJS(10*time.Second, "push URLs for the camera that became push", `document.querySelector('dialog.secret input') && document.querySelector('dialog.secret input').value.startsWith('rtsp://')`)
	url := eval[string](b, `document.querySelector('dialog.secret input').value`)
	b.shot("manage-pull-to-push")
	b.clickText("", "", "dialog.secret button", "Done")
	var cams struct {
		Cameras []struct{ ID, Name string } `json:"cameras"`
	}
	srv.must(200, "GET", "/api/v1/cameras", nil, &cams)
	for _, c := range cams.Cameras {
		if c.Name == "Yard" {
			if !strings.Contains(url, c.ID) {
				t.Errorf("push URL %q is not the Yard camera's", url)
			}
			srv.must(204, "DELETE", "/api/v1/cameras/"+c.ID, nil, nil)
		}
	}
}
