package uitest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/camcloud/camcloud/internal/testenv"
)

// webhookFlags let the server send webhooks to the test's receiver on
// 127.0.0.1 over http.
var webhookFlags = []string{"--webhook-allow", testenv.LoopbackAllow, "--webhook-allow-http"}

// webhookSteps: an owner adds a webhook (its secret shown once), sends
// it a test that arrives signed with that secret, reads the delivery log
// and turns the webhook off.
func webhookSteps(t *testing.T, b *tab, srv *server, orgID string) {
	b.t = t
	rcv := testenv.NewHookReceiver(t)
	b.do("reload", chromedp.Navigate(b.base+"/#/"))
	b.login(adminEmail, adminPW, nil)
	b.do("webhooks", chromedp.Navigate(b.base+"/#/manage/webhooks"))
	b.waitJS(10*time.Second, "the add form", `document.querySelector('#webhook-form')`)
	b.do("add a webhook",
		chromedp.SendKeys(`#webhook-form input[name=url]`, rcv.URL),
		chromedp.SendKeys(`#webhook-form input[name=types]`, "custom.*, camera.offline"),
		chromedp.Click(`#webhook-form button[type=submit]`))
	b.waitJS(10*time.Second, "the secret", `document.querySelector('dialog.secret input') && document.querySelector('dialog.secret input').value.startsWith('whsec_')`)
	rcv.SetSecret(eval[string](b, `document.querySelector('dialog.secret input').value`))
	b.shot("webhook-secret")
	b.clickText("", "", "dialog.secret button", "Done")
	b.waitJS(10*time.Second, "the webhook's row", fmt.Sprintf(`[...document.querySelectorAll('#webhooks tr')].some((r) => r.textContent.includes(%s))`, js(rcv.URL)))

	b.clickText("#webhooks tr", rcv.URL, "button", "Test")
	testenv.Eventually(t, 10*time.Second, "the signed test delivery", func() bool {
		got := rcv.Accepted()
		return len(got) == 1 && got[0].Type == "webhook.test" && got[0].SignatureOK
	})
	b.waitJS(10*time.Second, "the test in the delivery log", `(() => { const d = document.querySelector('#deliveries');
		return d && [...d.querySelectorAll('tbody tr')].some((r) => r.textContent.includes('webhook.test') && r.textContent.includes('200')); })()`)
	b.shot("webhook-deliveries")

	var hooks struct {
		Webhooks []struct {
			ID      string
			Enabled bool
		}
	}
	eval[bool](b, `(() => { document.querySelector('#webhooks input[type=checkbox]').click(); return true; })()`)
	testenv.Eventually(t, 10*time.Second, "the webhook turned off", func() bool {
		srv.must(200, "GET", "/api/v1/orgs/"+orgID+"/webhooks", nil, &hooks)
		return len(hooks.Webhooks) == 1 && !hooks.Webhooks[0].Enabled
	})
	b.waitJS(10*time.Second, "the off badge", `[...document.querySelectorAll('#webhooks .badge')].some((e) => e.textContent.trim() === 'off')`)
	if txt := eval[string](b, `document.querySelector('#webhooks').textContent`); !strings.Contains(txt, "custom.*") {
		t.Errorf("the webhook's row does not show its types: %q", txt)
	}
	b.logout()
}
