package uitest

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/camcloud/camcloud/internal/testenv"
)

// TestPlaybackControls: the camera page's playback speed, frame steps and
// jumps between recorded spans; an offline camera's tile with its last
// recorded image; synchronised playback of three cameras driven by one
// timeline (one of them with a gap); no WHEP DELETE answered 404 when
// pages are left; a viewer without export reads no export hint and drags
// nothing out of the timeline.
func TestPlaybackControls(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: skipped with -short")
	}
	srv := startServer(t)
	f := srv.setup(3, map[string]string{viewer: "viewer"})
	gap, steady, gone := f.cameras[0], f.cameras[1], f.cameras[2]
	stopGap, _, stopGone := srv.push(gap), srv.push(steady), srv.push(gone)
	for _, c := range f.cameras {
		srv.waitOnline(c)
	}
	start := time.Now()
	// 14 s recorded, then a gap in one camera's recording and another offline.
	testenv.Eventually(t, 60*time.Second, "14 s recorded", func() bool {
		return srv.recordedSince(gap, start.Add(2*time.Second), start.Add(14*time.Second)) &&
			srv.recordedSince(gone, start.Add(2*time.Second), start.Add(14*time.Second))
	})
	stopGap()
	stopGone()
	srv.waitOffline(gap)
	srv.waitOffline(gone)
	offAt := time.Now()
	testenv.Eventually(t, 10*time.Second, "a gap of 4 s", func() bool { return time.Since(offAt) > 4*time.Second })
	srv.push(gap)
	srv.waitOnline(gap)
	var spans []span
	testenv.Eventually(t, 60*time.Second, "two spans with 8 s after the gap", func() bool {
		spans = srv.spans(gap)
		return len(spans) == 2 && spans[1].End.Sub(spans[1].Start) > 8*time.Second
	})
	t.Logf("spans %s-%s, %s-%s", spans[0].Start.Format("15:04:05.000"), spans[0].End.Format("15:04:05.000"), spans[1].Start.Format("15:04:05.000"), spans[1].End.Format("15:04:05.000"))
	goneSpans := srv.spans(gone)

	b := newBrowser(t, srv.base)
	b.do("open the UI", chromedp.Navigate(b.base+"/"))
	b.login(adminEmail, adminPW, nil)
	_ = t.Run("offline tile", func(t *testing.T) { offlineTileSteps(t, b, gone, goneSpans) }) &&
		t.Run("camera page", func(t *testing.T) { cameraControlSteps(t, b, gap, spans) }) &&
		t.Run("sync", func(t *testing.T) { syncSteps(t, b, f.cameras, spans) }) &&
		t.Run("viewer", func(t *testing.T) { viewerPlaybackSteps(t, b, gap) })
	b.t = t
	if l := b.logsWith("whep", "404"); len(l) > 0 {
		t.Errorf("WebRTC sessions ended with a 404:\n%s", strings.Join(l, "\n"))
	}
	if ex := b.exceptions(); len(ex) > 0 {
		t.Errorf("the page threw:\n%s", strings.Join(ex, "\n"))
	}
}

// offlineTileSteps: the offline camera's tile shows its last recorded
// image, taken at the end of its last span, and since when it is offline.
func offlineTileSteps(t *testing.T, b *tab, gone camera, spans []span) {
	b.t = t
	tile := fmt.Sprintf(`document.querySelector('#grid [data-camera="%s"]')`, gone.ID)
	b.waitJS(30*time.Second, "the last image on the offline tile", tile+`.dataset.still === 'true' && `+tile+`.querySelector('img.still').naturalWidth > 0`)
	at := time.UnixMilli(int64(eval[float64](b, `+`+tile+`.querySelector('.still-time').dataset.time`)))
	end := spans[len(spans)-1].End
	// the keyframe before the span's end: at most a GOP (2 s) before it
	if d := end.Sub(at); d < 0 || d > 2500*time.Millisecond {
		t.Errorf("last image taken at %s, the last span ends at %s", at.Format("15:04:05.000"), end.Format("15:04:05.000"))
	}
	if note := eval[string](b, tile+`.querySelector('.tile-note').textContent`); !strings.HasPrefix(note, "offline since ") {
		t.Errorf("offline tile says %q", note)
	}
	if w := eval[int](b, tile+`.querySelector('img.still').naturalWidth`); w > 480 {
		t.Errorf("the kept image is %d px wide, want it scaled to at most 480", w)
	}
	b.shot("offline-tile")
}

// cameraControlSteps: previous and next recording, speeds, frame steps.
func cameraControlSteps(t *testing.T, b *tab, cam camera, spans []span) {
	b.t = t
	b.do("open the camera", chromedp.Navigate(b.base+"/#/camera/"+cam.ID))
	b.waitJS(10*time.Second, "the camera page", `document.querySelector('#player') && document.querySelector('#span-prev')`)
	if st := eval[string](b, `document.querySelector('#camera-status').textContent`); !strings.Contains(st, "H264") {
		t.Errorf("camera status line %q", st)
	}
	target := func() time.Time {
		return time.UnixMilli(int64(eval[float64](b, `+document.querySelector('#stage').dataset.target`)))
	}
	// vodAt waits for playback from want (the jump answers after a request).
	vodAt := func(what string, want time.Time) {
		ms := want.Truncate(time.Millisecond).UnixMilli()
		deadline := time.Now().Add(10 * time.Second)
		for !eval[bool](b, fmt.Sprintf(`document.querySelector('#stage').dataset.mode === 'vod' && +document.querySelector('#stage').dataset.target === %d`, ms)) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: asked for %s, want %s", what, target().Format("15:04:05.000"), want.Format("15:04:05.000"))
			}
			time.Sleep(100 * time.Millisecond)
		}
		b.waitJS(20*time.Second, what+" playing", `document.querySelector('#stage').dataset.playhead`)
	}
	// From live, back to the start of the span going on; from its first
	// seconds, to the span before.
	player := `document.querySelector('#player')`
	b.do("previous recording", chromedp.Click(chromedp.ID("span-prev")))
	vodAt("the span going on", spans[1].Start)
	b.waitJS(20*time.Second, "the recording playing", player+`.currentTime > 0.1 && !`+player+`.paused`)
	b.do("pause", chromedp.Click(chromedp.ID("play-pause")))
	b.waitJS(5*time.Second, "paused", player+`.paused && document.querySelector('#play-pause').dataset.paused === 'true'`)
	b.do("previous recording again", chromedp.Click(chromedp.ID("span-prev")))
	vodAt("the span before", spans[0].Start)
	b.waitJS(20*time.Second, "the first span playing", player+`.currentTime > 0.5 && !`+player+`.paused`)

	// Frame steps: paused, one frame (1/25 s) forward and back.
	b.do("pause", chromedp.Click(chromedp.ID("play-pause")))
	b.waitJS(5*time.Second, "paused", player+`.paused && document.querySelector('#play-pause').dataset.paused === 'true'`)
	t0 := eval[float64](b, player+`.currentTime`)
	b.do("frame forward", chromedp.Click(chromedp.ID("frame-fwd")))
	b.waitJS(5*time.Second, "one frame later", fmt.Sprintf(`%s.currentTime !== %f && !%s.seeking`, player, t0, player))
	t1 := eval[float64](b, player+`.currentTime`)
	if d := t1 - t0; d < 0.02 || d > 0.09 {
		t.Errorf("a frame forward moved %.3f s, want about 0.04", d)
	}
	b.do("frame back", chromedp.Click(chromedp.ID("frame-back")))
	b.waitJS(5*time.Second, "one frame earlier", fmt.Sprintf(`%s.currentTime !== %f && !%s.seeking`, player, t1, player))
	if t2 := eval[float64](b, player+`.currentTime`); math.Abs(t2-t0) > 0.03 || !eval[bool](b, player+`.paused`) {
		t.Errorf("frame back to %.3f, want %.3f and paused", t2, t0)
	}
	b.shot("camera-frame-step")

	// Next recording: the span after the gap; there, the speeds.
	b.do("next recording", chromedp.Click(chromedp.ID("span-next")))
	vodAt("the span after the gap", spans[1].Start)
	b.waitJS(20*time.Second, "the second span playing", player+`.currentTime > 0.1 && !`+player+`.paused`)
	for _, r := range []float64{2, 8, 0.5, 1} {
		b.do(fmt.Sprintf("speed %g", r), chromedp.SetValue(chromedp.ID("speed"), fmt.Sprint(r)),
			chromedp.Evaluate[chromedp.Void](`document.getElementById('speed').dispatchEvent(new Event('change'))`))
		b.waitJS(5*time.Second, fmt.Sprintf("playback rate %g", r), fmt.Sprintf(`%s.playbackRate === %g`, player, r))
		if r == 2 {
			p0, w0 := eval[float64](b, player+`.currentTime`), time.Now()
			b.waitJS(20*time.Second, "the recording at double speed", fmt.Sprintf(`%s.currentTime - %f > 3`, player, p0))
			t.Logf("at 2x: %.1f s of recording in %s", eval[float64](b, player+`.currentTime`)-p0, time.Since(w0).Round(100*time.Millisecond))
			b.shot("camera-speed")
		}
	}
	b.do("next recording from the last", chromedp.Click(chromedp.ID("span-next")))
	b.waitJS(10*time.Second, "live after the last span", `document.querySelector('#stage').dataset.mode === 'live'`)
	b.waitJS(20*time.Second, "live playing", player+`.videoWidth > 0 && `+player+`.currentTime > 0`)
	// Leave the page while live, come back, leave again: no WHEP DELETE
	// finds its session gone (checked at the end of the test).
	b.do("grid", chromedp.Navigate(b.base+"/#/"))
	b.do("camera again", chromedp.Navigate(b.base+"/#/camera/"+cam.ID))
	b.waitJS(20*time.Second, "live again", player+` && `+player+`.videoWidth > 0 && `+player+`.currentTime > 0`)
	b.do("grid again", chromedp.Navigate(b.base+"/#/"))
	b.waitJS(10*time.Second, "the grid", `document.querySelector('#grid').dataset.ready`)
}

// syncSteps: three cameras from one instant, kept together; the camera
// with a gap waits in it while the others play on.
func syncSteps(t *testing.T, b *tab, cams []camera, spans []span) {
	b.t = t
	at := spans[0].Start.Add(3 * time.Second)
	b.do("synchronised playback", chromedp.Navigate(fmt.Sprintf("%s/#/sync/%s,%s,%s?at=%d", b.base, cams[0].ID, cams[1].ID, cams[2].ID, at.UnixMilli())))
	cells := `[...document.querySelectorAll('#sync-grid .sync-cell')]`
	spread := fmt.Sprintf(`(() => { const p = %s.map((c) => +c.dataset.playhead); return Math.max(...p) - Math.min(...p); })()`, cells)
	together := func(what string) {
		b.waitJS(30*time.Second, what, fmt.Sprintf(`document.querySelector('#sync').dataset.running === 'true' && %s.length === 3 && %s.every((c) => c.dataset.sync === 'on' && c.dataset.playhead) && %s < 300`, cells, cells, spread))
	}
	together("three cameras playing together")
	if clock := time.UnixMilli(int64(eval[float64](b, `+document.querySelector('#sync').dataset.clock`))); clock.Before(at) || clock.After(at.Add(20*time.Second)) {
		t.Errorf("clock at %s, started at %s", clock.Format("15:04:05.000"), at.Format("15:04:05.000"))
	}
	b.shot("sync-three")
	// One timeline drives all: zoomed to 5 min, a click at 8 s into the
	// first span, then one in the gap of the first camera.
	b.do("zoom to 5 min", chromedp.Click(chromedp.CSS(`[data-zoom="300000"]`)))
	if lanes := eval[int](b, `new Set([...document.querySelectorAll('#timeline .tl-span')].map((s) => s.dataset.lane)).size`); lanes != 3 {
		t.Errorf("the timeline shows spans in %d lanes, want 3", lanes)
	}
	b.do("scroll to the timeline", chromedp.ScrollIntoView(chromedp.ID("timeline")))
	clickAt := func(what string, at time.Time) {
		box := eval[struct{ Left, Width, Top, Height, Start, End float64 }](b,
			`(() => { const e = document.querySelector('#timeline'); const r = e.getBoundingClientRect();
			  return {left: r.left, width: r.width, top: r.top, height: r.height, start: +e.dataset.viewStart, end: +e.dataset.viewEnd}; })()`)
		b.do(what, chromedp.MouseClickXY(box.Left+(float64(at.UnixMilli())-box.Start)/(box.End-box.Start)*box.Width, box.Top+box.Height/2))
		b.waitJS(10*time.Second, what+": the new instant", fmt.Sprintf(`Math.abs(+document.querySelector('#sync').dataset.target - %d) < %f`, at.UnixMilli(), (box.End-box.Start)/box.Width+500))
	}
	clickAt("click 8 s into the first span", spans[0].Start.Add(8*time.Second))
	together("together from the clicked instant")
	speed := func(r string) {
		b.do("speed "+r, chromedp.SetValue(chromedp.ID("speed"), r),
			chromedp.Evaluate[chromedp.Void](`document.getElementById('speed').dispatchEvent(new Event('change'))`))
	}
	speed("2")
	b.waitJS(10*time.Second, "every player near double speed", fmt.Sprintf(`%s.every((c) => c.dataset.sync !== 'on' || Math.abs(c.querySelector('video').playbackRate - 2) < 0.25)`, cells))
	together("together at double speed")
	// At half speed into the gap: the first camera waits in it while the
	// others play, and joins them where it recorded again.
	speed("0.5")
	clickAt("click in the gap", spans[0].End.Add(spans[1].Start.Sub(spans[0].End)/2))
	first := fmt.Sprintf(`%s[0].dataset.sync`, cells)
	b.waitJS(20*time.Second, "the first camera waiting in its gap", first+` === 'gap' && `+cells+`.slice(1).every((c) => c.dataset.sync === 'on')`)
	b.shot("sync-gap")
	// After the gap the first two cameras recorded (the third was gone by then).
	pair := fmt.Sprintf(`%s.slice(0, 2)`, cells)
	b.waitJS(30*time.Second, "the first two together after the gap", fmt.Sprintf(`document.querySelector('#sync').dataset.running === 'true' && %s.every((c) => c.dataset.sync === 'on')
		&& (() => { const p = %s.map((c) => +c.dataset.playhead); return Math.abs(p[0] - p[1]) < 300 && p[0] >= %d; })()`, pair, pair, spans[1].Start.UnixMilli()))
	b.shot("sync-after-gap")
}

// viewerPlaybackSteps: a viewer has no export: no hint of it, no range
// drawn by a drag (which plays from where it ends instead).
func viewerPlaybackSteps(t *testing.T, b *tab, cam camera) {
	b.t = t
	b.logout()
	b.login(viewer, userPW, nil)
	b.do("open the camera", chromedp.Navigate(b.base+"/#/camera/"+cam.ID))
	b.waitJS(10*time.Second, "the timeline", `document.querySelector('#timeline') && document.querySelector('#timeline-hint')`)
	if hint := eval[string](b, `document.querySelector('#timeline-hint').textContent`); strings.Contains(hint, "export") || !strings.Contains(hint, "Click the timeline") {
		t.Errorf("viewer's timeline hint %q", hint)
	}
	if eval[bool](b, `!!document.querySelector('#export-clip')`) {
		t.Error("viewer sees the clip export")
	}
	b.do("zoom to 5 min", chromedp.Click(chromedp.CSS(`[data-zoom="300000"]`)))
	b.do("scroll to the timeline", chromedp.ScrollIntoView(chromedp.ID("timeline")))
	r := eval[struct{ Left, Width, Top, Height float64 }](b, `(() => { const r = document.querySelector('#timeline').getBoundingClientRect(); return {left: r.left, width: r.width, top: r.top, height: r.height}; })()`)
	y := r.Top + r.Height/2
	b.do("drag on the timeline", chromedp.MouseEvent(chromedp.MousePressed, r.Left+r.Width*0.5, y, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseMoved, r.Left+r.Width*0.6, y, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseMoved, r.Left+r.Width*0.7, y, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseReleased, r.Left+r.Width*0.7, y, chromedp.ButtonLeft))
	if eval[bool](b, `!!document.querySelector('#timeline .tl-range')`) {
		t.Error("a viewer's drag drew an export range")
	}
	b.shot("viewer-no-export")
	b.logout()
}
