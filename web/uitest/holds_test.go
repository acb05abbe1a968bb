package uitest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/camcloud/camcloud/internal/testenv"
)

// holdSteps: an owner places a legal hold on the camera page; it is
// listed and drawn on the timeline; deleting the held camera is refused
// naming the hold; the owner releases it from the page. On the members
// page the organisation's storage shows per camera, and the owner sets a
// quota.
func holdSteps(t *testing.T, b *tab, srv *server, orgID string, cam camera) {
	b.t = t
	b.do("reload", chromedp.Navigate(b.base+"/#/"))
	b.login(adminEmail, adminPW, nil)
	b.do("open the camera", chromedp.Navigate(b.base+"/#/camera/"+cam.ID))
	b.waitJS(10*time.Second, "the holds card", `document.querySelector('#holds-card #place-hold') && document.querySelector('#holds li.muted')`)
	b.do("place a hold",
		chromedp.SendKeys(`#hold-reason`, "incident 7: forklift"),
		chromedp.Click(`#place-hold`))
	b.waitJS(10*time.Second, "the hold listed", `[...document.querySelectorAll('#holds li[data-hold]')].some((li) => li.textContent.includes('incident 7'))`)
	b.waitJS(10*time.Second, "the hold on the timeline", `document.querySelector('#timeline .tl-hold')`)
	b.shot("camera-hold")

	var holds struct {
		Holds []struct{ ID, Reason string }
	}
	srv.must(200, "GET", "/api/v1/cameras/"+cam.ID+"/holds", nil, &holds)
	if len(holds.Holds) != 1 || holds.Holds[0].Reason != "incident 7: forklift" {
		t.Fatalf("holds after placing one in the UI: %+v", holds.Holds)
	}
	var refusal struct {
		Error struct{ Code, Message string }
	}
	srv.must(409, "DELETE", "/api/v1/cameras/"+cam.ID, nil, &refusal)
	if refusal.Error.Code != "held" || !strings.Contains(refusal.Error.Message, holds.Holds[0].ID) {
		t.Fatalf("delete of the held camera answered %+v", refusal)
	}

	b.clickText("#holds li", "incident 7", "button", "Release")
	b.waitJS(5*time.Second, "the confirmation", `document.querySelector('dialog.confirm')`)
	b.clickText("", "", "dialog.confirm button", "Release")
	b.waitJS(10*time.Second, "no holds left", `document.querySelector('#holds li.muted') && !document.querySelector('#timeline .tl-hold')`)
	srv.must(200, "GET", "/api/v1/cameras/"+cam.ID+"/holds", nil, &holds)
	if len(holds.Holds) != 0 {
		t.Fatalf("holds after releasing in the UI: %+v", holds.Holds)
	}

	b.do("members page", chromedp.Navigate(b.base+"/#/manage/members"))
	b.waitJS(15*time.Second, "the camera's storage", fmt.Sprintf(`(() => { const r = document.querySelector('#storage-cameras tr[data-camera=%s]');
		return r && /[kMG]B/.test(r.children[1].textContent) && r.children[2].textContent !== '—'; })()`, js(cam.ID)))
	b.do("set a quota", chromedp.SendKeys(`#quota-gb`, "500"), chromedp.Click(`#quota-save`))
	var org struct {
		Quota int64 `json:"storage_quota_bytes"`
	}
	testenv.Eventually(t, 10*time.Second, "the quota set", func() bool {
		srv.must(200, "GET", "/api/v1/orgs/"+orgID+"/storage", nil, &org)
		return org.Quota == 500e9
	})
	b.waitJS(10*time.Second, "the quota shown", `document.querySelector('#storage-used').textContent.includes('500 GB')`)
	b.shot("org-storage")
}
