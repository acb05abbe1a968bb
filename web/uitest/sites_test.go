package uitest

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/camcloud/camcloud/internal/testenv"
)

// TestSitesPage: an owner adds a site on the Sites page (its enrolment
// token shown once), an agent enrols with that token and reports, the
// page shows what it reported, the owner puts a camera at the site from
// the camera's edit form and revokes the agent, whose next call is then
// refused; a viewer of the organisation sees the site without the
// owner's buttons.
func TestSitesPage(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: skipped with -short")
	}
	srv := startServer(t)
	const viewer = "site-viewer@example.com"
	f := srv.setup(1, map[string]string{viewer: "viewer"})
	b := newBrowser(t, srv.base)
	b.do("open", chromedp.Navigate(srv.base+"/#/"))
	b.login(adminEmail, adminPW, nil)

	b.do("sites", chromedp.Navigate(srv.base+"/#/manage/sites"))
	b.waitJS(10*time.Second, "the add form", `document.querySelector('#site-form input[name=name]')`)
	b.do("add a site", chromedp.SendKeys(`#site-form input[name=name]`, "Shop 12"), chromedp.Click(`#site-form button[type=submit]`))
	b.waitJS(10*time.Second, "the enrolment token", `document.querySelector('dialog.secret input') && document.querySelector('dialog.secret input').value.startsWith('cc_e_')`)
	token := eval[string](b, `document.querySelector('dialog.secret input').value`)
	b.shot("site-token")
	b.clickText("", "", "dialog.secret button", "Done")
	b.waitJS(10*time.Second, "the site waiting for its agent", `[...document.querySelectorAll('#sites tr')].some((r) => r.textContent.includes('Shop 12') && r.textContent.includes('waiting for its agent'))`)

	// The agent's side, as `camcloud agent` calls it.
	var cred struct {
		SiteID     string `json:"site_id"`
		Credential string `json:"credential"`
	}
	if code := testenv.APIStatus(t, srv.base, "", "POST", "/api/v1/agent/enrol", map[string]string{"token": token}, &cred); code != 200 && code != 201 {
		t.Fatalf("enrol with the token the page showed: %d", code)
	}
	report := map[string]any{"agent_version": "camcloud-agent/test", "buffer_used_bytes": 81234567, "buffer_max_bytes": 21474836480,
		"backlog_seconds": 125, "backlog_bytes": 31000000, "upload_bps": 1800000}
	if code := testenv.APIStatus(t, srv.base, cred.Credential, "POST", "/api/v1/agent/heartbeat", report, nil); code != 200 {
		t.Fatalf("heartbeat: %d", code)
	}

	// The camera is put at the site from its edit form.
	b.do("manage", chromedp.Navigate(srv.base+"/#/manage/cameras"))
	b.waitJS(10*time.Second, "the camera row", `document.querySelectorAll('.cam-row').length === 1`)
	b.clickText(".cam-row", "Cam 01", "button", "Edit")
	b.waitJS(5*time.Second, "the site field", `document.querySelector('.cam-row form select[name=site]')`)
	eval[bool](b, `(() => { const s = document.querySelector('.cam-row form select[name=site]');
		s.value = [...s.options].find((o) => o.textContent === 'Shop 12').value; return true; })()`)
	b.clickText(".cam-row form", "", "button", "Save")
	testenv.Eventually(t, 10*time.Second, "the camera at the site", func() bool {
		var cam struct {
			SiteID string `json:"site_id"`
		}
		srv.must(200, "GET", "/api/v1/cameras/"+f.cameras[0].ID, nil, &cam)
		return cam.SiteID == cred.SiteID
	})

	b.do("sites again", chromedp.Navigate(srv.base+"/#/manage/sites"))
	row := `[...document.querySelectorAll('#sites tr')].find((r) => r.textContent.includes('Shop 12'))`
	b.waitJS(10*time.Second, "the reported status", row+` && `+row+`.textContent.includes('online') && `+row+`.querySelector('[data-field=cameras]').textContent === '1'`)
	got := map[string]string{}
	for _, field := range []string{"buffer", "backlog", "upload"} {
		got[field] = eval[string](b, row+`.querySelector('[data-field=`+field+`]').textContent`)
	}
	b.shot("sites")
	for field, want := range map[string]string{"buffer": "81 MB of 21 GB", "backlog": "2 min 5 s, 31 MB", "upload": "1.8 Mbit/s"} {
		if !strings.Contains(got[field], want) {
			t.Errorf("site %s shows %q, want %q in it", field, got[field], want)
		}
	}

	// Revoked from the page: the agent's next call is refused.
	b.clickText("#sites tr", "Shop 12", "button", "Revoke")
	b.waitJS(5*time.Second, "the confirmation", `document.querySelector('dialog.confirm')`)
	b.clickText("", "", "dialog.confirm button", "Revoke")
	b.waitJS(10*time.Second, "the revoked badge", row+` && `+row+`.textContent.includes('revoked')`)
	if code := testenv.APIStatus(t, srv.base, cred.Credential, "POST", "/api/v1/agent/heartbeat", report, nil); code != 401 {
		t.Errorf("heartbeat after the revocation: %d, want 401", code)
	}

	// A viewer sees the site but none of the owner's buttons.
	b.logout()
	b.login(viewer, userPW, nil)
	b.do("sites as a viewer", chromedp.Navigate(srv.base+"/#/manage/sites"))
	b.waitJS(10*time.Second, "the site", row)
	if n := eval[int](b, `document.querySelectorAll('#sites button').length + document.querySelectorAll('#site-form').length`); n != 0 {
		t.Errorf("a viewer is offered %d site buttons or forms, want none", n)
	}
}
