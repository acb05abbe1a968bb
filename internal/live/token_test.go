package live

import (
	"crypto/rand"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/auth"
)

// TestTokensRefused: forged, expired, other-camera, other-permission and
// missing tokens are refused on HLS and WHEP alike, in the contract's error
// shape; a camera not published here is 404.
func TestTokensRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 10*time.Second)
	publish(t, e.hub, "cam", "sample-h264.ts", nil)
	otherKey := make([]byte, 32)
	_, _ = rand.Read(otherKey)
	forger, _ := auth.NewSigner(otherKey)
	forged, _ := forger.Sign(auth.MediaClaims{CameraID: "cam", Perm: "live", Expires: time.Now().Add(time.Minute)})
	good := e.token("cam", "live", time.Minute)
	tampered := good[:len(good)-2] + "AA"
	if tampered == good {
		tampered = good[:len(good)-2] + "BB"
	}
	cases := []struct {
		name, camera, token string
		status              int
		code                string
	}{
		{"missing", "cam", "", 401, "unauthorized"},
		{"forged", "cam", forged, 401, "invalid_token"},
		{"tampered", "cam", tampered, 401, "invalid_token"},
		{"garbage", "cam", "not-a-token", 401, "invalid_token"},
		{"expired", "cam", e.token("cam", "live", -time.Second), 401, "token_expired"},
		{"other camera", "cam", e.token("cam2", "live", time.Minute), 403, "forbidden"},
		{"other permission", "cam", e.token("cam", "playback", time.Minute), 403, "forbidden"},
		{"not published", "cam2", e.token("cam2", "live", time.Minute), 404, "not_live"},
	}
	for _, tc := range cases {
		q := ""
		if tc.token != "" {
			q = "?token=" + url.QueryEscape(tc.token)
		}
		base := e.base + "/live/v1/" + tc.camera
		code, body := get(t, base+"/index.m3u8"+q)
		if code != tc.status || errCode(body) != tc.code {
			t.Errorf("HLS %s: %d %s, want %d %s", tc.name, code, body, tc.status, tc.code)
		}
		res, err := http.Post(base+"/whep"+q, "application/sdp", strings.NewReader("v=0\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 2048)
		n, _ := res.Body.Read(b)
		res.Body.Close()
		if res.StatusCode != tc.status || errCode(b[:n]) != tc.code {
			t.Errorf("WHEP %s: %d %s, want %d %s", tc.name, res.StatusCode, b[:n], tc.status, tc.code)
		}
	}
	// A bearer header works for WHEP clients that send one.
	req, _ := http.NewRequest(http.MethodPost, e.base+"/live/v1/cam/whep", strings.NewReader("garbage"))
	req.Header.Set("Authorization", "Bearer "+good)
	req.Header.Set("Content-Type", "application/sdp")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 400 {
		t.Fatalf("bearer token: %d, want 400 (token accepted, SDP refused)", res.StatusCode)
	}
	if e.svc.muxerCount() != 0 {
		t.Fatal("a refused request started a muxer")
	}
}

// TestCORSPreflight: browsers on the UI's origin may call the media routes.
func TestCORSPreflight(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Second)
	req, _ := http.NewRequest(http.MethodOptions, e.base+"/live/v1/cam/whep", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight: %d %v", res.StatusCode, res.Header)
	}
}

// TestCachedTokenStillExpires: a token verified once (and cached) is
// refused once it expires, and still only for its own camera.
func TestCachedTokenStillExpires(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Now()
	e := newEnvDeps(t, Deps{IdleTimeout: 10 * time.Second, Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	tok := url.QueryEscape(e.token("cam", "live", time.Minute))
	for range 2 { // verified, then from the cache
		if code, body := get(t, e.base+"/live/v1/cam/index.m3u8?token="+tok); code != 404 || errCode(body) != "not_live" {
			t.Fatalf("valid token: %d %s, want 404 not_live (accepted; nothing published)", code, body)
		}
	}
	if code, body := get(t, e.base+"/live/v1/cam2/index.m3u8?token="+tok); code != 403 || errCode(body) != "forbidden" {
		t.Fatalf("cached token on another camera: %d %s, want 403", code, body)
	}
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	if code, body := get(t, e.base+"/live/v1/cam/index.m3u8?token="+tok); code != 401 || errCode(body) != "token_expired" {
		t.Fatalf("expired cached token: %d %s, want 401 token_expired", code, body)
	}
}
