package playback_test

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/testenv"
)

// TestS3PlaylistInitFromMemory: with the zone's store on S3 (versitygw),
// a VOD playlist names its segments as presigned store URLs and its init
// segment as this node's own object, served from memory: the bytes are
// the stored object's, they are still served with the store stopped, and
// ffmpeg plays the playlist (init from the node, segments from the store)
// to every frame of the range.
func TestS3PlaylistInitFromMemory(t *testing.T) {
	ffmpeg := testenv.Tool(t, "ffmpeg")
	s3 := testenv.StartS3(t)
	d := t.TempDir()
	conf := filepath.Join(d, "camcloud.yaml")
	y := fmt.Sprintf("directory: \"sqlite:%s\"\nzones:\n  - name: local\n    db: \"sqlite:%s\"\n    store: %s\n",
		filepath.Join(d, "directory.db"), filepath.Join(d, "local.db"), s3.ZoneStore("inits"))
	if err := os.WriteFile(conf, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	e := start(t, conf)
	w := e.world()
	recordSessions(t, e.zone, w.camA, 10*time.Second, session{at: epoch, loops: 2})
	r := recorded{env: e, w: w, ffmpeg: ffmpeg, conf: conf}

	u := r.playbackURL(w.tok["viewer"], 0, 20*time.Second)
	base, _ := url.Parse(u)
	var initURL string
	segs := 0
	for _, l := range r.playlistLines(u) {
		if m, ok := strings.CutPrefix(l, "#EXT-X-MAP:URI="); ok {
			ref, _ := base.Parse(strings.Trim(m, `"`))
			initURL = ref.String()
		} else if l != "" && !strings.HasPrefix(l, "#") {
			segs++
			if !strings.HasPrefix(l, "http://"+s3.Endpoint+"/") || !strings.Contains(l, "X-Amz-Signature=") {
				t.Errorf("segment URI %.200q, want a presigned URL of the store", l)
			}
		}
	}
	if segs == 0 || !strings.HasPrefix(initURL, r.base+"/media/v1/playback/"+w.camA+"/obj/cam/") {
		t.Fatalf("playlist: %d segments, init %q; want segments and the init from this node", segs, initURL)
	}
	key := strings.TrimPrefix(strings.SplitN(initURL, "?", 2)[0], r.base+"/media/v1/playback/"+w.camA+"/obj/")
	rc, err := e.zone.Blobs.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("the init object %s in the store: %v", key, err)
	}
	stored, _ := io.ReadAll(rc)
	rc.Close()
	got := r.must(r.do("GET", initURL, "", nil), 200)
	if !bytes.Equal(got.Raw, stored) || len(stored) == 0 {
		t.Fatalf("init served: %d bytes, the store's object %d bytes (equal %v)", len(got.Raw), len(stored), bytes.Equal(got.Raw, stored))
	}

	// Every frame of the range, init from the node and segments from S3.
	if n := ffmpegFrames(t, ffmpeg, u); n != 20*25 {
		t.Errorf("ffmpeg decoded %d frames of the 20 s range, want %d", n, 20*25)
	}

	// From memory: no store needed; another camera's init is not there.
	s3.Stop()
	if again := r.must(r.do("GET", initURL, "", nil), 200); !bytes.Equal(again.Raw, stored) {
		t.Errorf("init with the store stopped: %d bytes", len(again.Raw))
	}
	other := strings.Replace(initURL, "/obj/cam/"+w.camA+"/", "/obj/cam/"+w.camB+"/", 1)
	if res := r.do("GET", other, "", nil); res.Status != 403 {
		t.Errorf("another camera's init with this token: %d, want 403", res.Status)
	}
}
