package live

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/auth"
)

// linkStates is the directory's answer about share links, as package
// shares gives it (its own tests read the directory).
type linkStates struct {
	mu    sync.Mutex
	alive map[string]bool
	asked int
}

func (l *linkStates) Alive(_ context.Context, id string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.asked++
	return l.alive[id], nil
}

func (l *linkStates) set(id string, v bool) {
	l.mu.Lock()
	l.alive[id] = v
	l.mu.Unlock()
}

// TestShareLinkLive: a live media token minted for a share link plays
// over LL-HLS and WebRTC while the link holds; once it is revoked, the
// next HLS request is refused (410) within shareRecheck and its WebRTC
// session is ended within 2 s. A server without a ShareCheck refuses such
// tokens.
func TestShareLinkLive(t *testing.T) {
	t.Parallel()
	links := &linkStates{alive: map[string]bool{"link1": true}}
	e := newEnvDeps(t, Deps{IdleTimeout: 10 * time.Second, Shares: links})
	publish(t, e.hub, "cam", "sample-h264.ts", nil)
	tok, err := e.sig.Sign(auth.MediaClaims{CameraID: "cam", Perm: "live", Subject: "share:link1", Share: "link1", Expires: time.Now().Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	q := "?token=" + url.QueryEscape(tok)
	if code, body := get(t, e.base+"/live/v1/cam/index.m3u8"+q); code != http.StatusOK {
		t.Fatalf("HLS with a live link's token: %d %s", code, body)
	}
	c := newWHEPClient(t, e.base+"/live/v1/cam/whep"+q, false, true)
	if c.status != http.StatusCreated {
		t.Fatalf("WHEP with a live link's token: %d %s", c.status, c.body)
	}
	c.waitPackets(t, 20, 15*time.Second)

	links.set("link1", false)
	revoked := time.Now()
	for e.svc.sessionCount() != 0 {
		if time.Since(revoked) > 2*time.Second+time.Second/2 {
			t.Fatalf("the revoked link's WebRTC session still runs %s later", time.Since(revoked))
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(shareRecheck)
	if code, body := get(t, e.base+"/live/v1/cam/index.m3u8"+q); code != http.StatusGone || errCode(body) != "share_ended" {
		t.Fatalf("HLS after revocation: %d %s", code, body)
	}
	if c2 := newWHEPClient(t, e.base+"/live/v1/cam/whep"+q, false, false); c2.status != http.StatusGone {
		t.Fatalf("WHEP after revocation: %d %s", c2.status, c2.body)
	}

	none := newEnv(t, 10*time.Second)
	publish(t, none.hub, "cam", "sample-h264.ts", nil)
	tok2, _ := none.sig.Sign(auth.MediaClaims{CameraID: "cam", Perm: "live", Share: "link1", Expires: time.Now().Add(time.Minute)})
	if code, _ := get(t, none.base+"/live/v1/cam/index.m3u8?token="+url.QueryEscape(tok2)); code != http.StatusGone {
		t.Fatalf("a link's token on a server that cannot check links: %d", code)
	}
}
