package uitest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestVODAfterSwitchFromLive: from live, a recording plays, also when the
// switch comes while live is still trying WebRTC. The browser is one
// whose WebRTC cannot use UDP (a network that blocks it), so live waits
// 6 s for WebRTC frames before it takes HLS: every switch to the
// recording lands in that wait. The player used to clear the video's
// srcObject when the abandoned WebRTC attempt gave up, a moment after the
// recording had attached to the element, which reloaded the element
// under the recording: hls.js recovered once from the media error, and
// when anything else went wrong the recording did not start.
func TestVODAfterSwitchFromLive(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: skipped with -short")
	}
	srv := startServer(t)
	cam, _ := srv.recordingCamera(time.Second, 8*time.Second)
	b := newBrowser(t, srv.base, chromedp.Flag("force-webrtc-ip-handling-policy", "disable_non_proxied_udp"))
	b.do("open the UI", chromedp.Navigate(b.base+"/"))
	b.login(adminEmail, adminPW, nil)
	b.do("open the camera", chromedp.Navigate(b.base+"/#/camera/"+cam.ID))
	b.waitJS(10*time.Second, "the camera page", `document.querySelector('#player') && document.querySelector('#span-prev')`)
	player, stage := `document.querySelector('#player')`, `document.querySelector('#stage')`
	for i := range 3 {
		b.waitJS(10*time.Second, "live trying WebRTC", stage+`.dataset.mode === 'live' && `+stage+`.dataset.live === 'connecting'`)
		// Note every change of the element's srcObject (live's WebRTC
		// stream) made while a recording is attached to it (its src a
		// MediaSource blob): each one reloads the element under the
		// recording.
		b.do("watch the element", chromedp.Evaluate[chromedp.Void](`window.__overRecording = 0; if (!window.__watching) { window.__watching = true;
const P = HTMLMediaElement.prototype, d = Object.getOwnPropertyDescriptor(P, "srcObject");
Object.defineProperty(P, "srcObject", { get: d.get, configurable: true, set(v) { if (this.src.startsWith("blob:")) window.__overRecording++; d.set.call(this, v); } }); } void 0;`))
		b.do(fmt.Sprintf("switch %d: the recording", i+1), chromedp.Click(chromedp.ID("span-prev")))
		b.waitJS(20*time.Second, fmt.Sprintf("switch %d: the recording playing", i+1),
			stage+`.dataset.mode === 'vod' && `+stage+`.dataset.playhead && `+player+`.currentTime > 0.5 && !`+player+`.paused`)
		// It goes on playing: nothing took the element away a moment later.
		t0 := eval[float64](b, player+`.currentTime`)
		b.waitJS(10*time.Second, fmt.Sprintf("switch %d: the recording still playing", i+1), fmt.Sprintf(`%s.currentTime > %f + 1 && !%s.paused`, player, t0, player))
		if n := eval[float64](b, `window.__overRecording`); n != 0 {
			t.Errorf("switch %d: live reset the video element %v times after the recording took it", i+1, n)
		}
		b.do(fmt.Sprintf("switch %d: back to live", i+1), chromedp.Click(chromedp.ID("back-live")))
	}
	if ex := b.exceptions(); len(ex) > 0 {
		t.Errorf("the page threw:\n%s", strings.Join(ex, "\n"))
	}
}
