package uitest

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/camcloud/camcloud/internal/sample"
	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestTileWaitsForKeyframe: the grid tile of a camera that streams but has
// sent no keyframe says so (the camera server's 503 waiting_for_keyframe)
// instead of showing nothing.
func TestTileWaitsForKeyframe(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: skipped with -short")
	}
	srv := startServer(t)
	f := srv.setup(1, nil)
	smp, err := sample.Load(testenv.RepoFile("testdata/sample-h264.ts"))
	if err != nil {
		t.Fatal(err)
	}
	// The same stream without its keyframes: a camera that has not sent
	// its first one yet.
	noKeys := *smp
	noKeys.Units = nil
	for _, u := range smp.Units {
		if !u.Key {
			noKeys.Units = append(noKeys.Units, u)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = sim.Push(ctx, []string{f.cameras[0].Ingest.RTSP}, &noKeys, nil)
	}()
	t.Cleanup(func() { cancel(); <-done })
	srv.waitOnline(f.cameras[0])
	b := newBrowser(t, srv.base)
	b.do("open the UI", chromedp.Navigate(b.base+"/"))
	b.login(adminEmail, adminPW, nil)
	b.waitJS(40*time.Second, "the tile's keyframe message",
		`[...document.querySelectorAll('#grid .tile .tile-note')].some((n) => n.textContent.includes("waiting for the camera's first keyframe"))`)
	b.shot("tile-waiting-for-keyframe")
}
