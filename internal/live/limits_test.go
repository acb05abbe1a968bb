package live

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/testenv"
)

// offerOnly is an SDP offer of a viewer that never takes the answer, so
// the sessions made of it never connect.
func offerOnly(t testing.TB) string {
	t.Helper()
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	return offer.SDP
}

// answer is the status, error code and Retry-After of one request.
type answer struct {
	status      int
	code, retry string
}

// do sends n requests at once and returns their answers.
func doAll(t testing.TB, n int, mk func() *http.Request) []answer {
	t.Helper()
	out := make([]answer, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res, err := http.DefaultClient.Do(mk())
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			out[i] = answer{res.StatusCode, errCode(b), res.Header.Get("Retry-After")}
		})
	}
	wg.Wait()
	return out
}

// tally counts answers by status and code.
func tally(as []answer) map[answer]int {
	m := map[answer]int{}
	for _, a := range as {
		m[answer{status: a.status, code: a.code}]++
	}
	return m
}

// whepPoster makes WHEP offers that never connect to e's camera "cam".
type whepPoster struct {
	e   *env
	sdp string
}

// tokenOf signs a live token of "cam" for user.
func (p whepPoster) tokenOf(user string) string {
	tok, err := p.e.sig.Sign(auth.MediaClaims{CameraID: "cam", Perm: "live", Subject: user, Expires: time.Now().Add(time.Minute)})
	if err != nil {
		p.e.t.Fatal(err)
	}
	return tok
}

// post returns a maker of offer requests with tok.
func (p whepPoster) post(tok string) func() *http.Request {
	return func() *http.Request {
		req, _ := http.NewRequest(http.MethodPost, p.e.base+"/live/v1/cam/whep?token="+url.QueryEscape(tok), strings.NewReader(p.sdp))
		req.Header.Set("Content-Type", "application/sdp")
		return req
	}
}

// TestWHEPSessionsPerPrincipal: one live URL fired 40 times at once opens
// DefaultMaxSessionsPerToken sessions and is refused 429 for the rest; one
// user's tokens together open at most DefaultMaxSessionsPerUser; another
// user still gets in. (Sessions here wait a minute to connect, so that
// none ends while the test counts.)
func TestWHEPSessionsPerPrincipal(t *testing.T) {
	t.Parallel()
	e := newEnvDeps(t, Deps{IdleTimeout: 10 * time.Second, ConnectTimeout: time.Minute})
	publish(t, e.hub, "cam", "sample-h264.ts", nil)
	wp := whepPoster{e: e, sdp: offerOnly(t)}
	tokenOf, post := wp.tokenOf, wp.post
	first := tokenOf("u1")
	got := doAll(t, 40, post(first))
	c := tally(got)
	if c[answer{status: 201}] != DefaultMaxSessionsPerToken || c[answer{status: 429, code: "too_many_sessions"}] != 40-DefaultMaxSessionsPerToken {
		t.Fatalf("40 offers on one token: %v, want %d created and the rest 429 too_many_sessions", c, DefaultMaxSessionsPerToken)
	}
	for _, a := range got {
		if a.status == 429 && a.retry == "" {
			t.Fatal("a 429 without Retry-After")
		}
	}
	// More tokens of the same user: the user's bound holds over them all.
	created := DefaultMaxSessionsPerToken
	for range DefaultMaxSessionsPerUser/DefaultMaxSessionsPerToken + 1 {
		created += tally(doAll(t, DefaultMaxSessionsPerToken, post(tokenOf("u1"))))[answer{status: 201}]
	}
	if created != DefaultMaxSessionsPerUser {
		t.Fatalf("one user's tokens opened %d sessions, want %d", created, DefaultMaxSessionsPerUser)
	}
	if a := doAll(t, 1, post(tokenOf("u2")))[0]; a.status != 201 {
		t.Fatalf("another user is refused: %+v", a)
	}
	if n := e.svc.sessionCount(); n != DefaultMaxSessionsPerUser+1 {
		t.Fatalf("%d sessions open, want %d", n, DefaultMaxSessionsPerUser+1)
	}
}

// TestWHEPUnconnectedSessionsEnd: sessions whose viewer never connects end
// after DefaultConnectTimeout (they lingered 20-30 s) and give their places
// back to their token.
func TestWHEPUnconnectedSessionsEnd(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 10*time.Second)
	publish(t, e.hub, "cam", "sample-h264.ts", nil)
	wp := whepPoster{e: e, sdp: offerOnly(t)}
	tok := wp.tokenOf("u1")
	if c := tally(doAll(t, DefaultMaxSessionsPerToken, wp.post(tok))); c[answer{status: 201}] != DefaultMaxSessionsPerToken {
		t.Fatalf("offers: %v", c)
	}
	testenv.Eventually(t, 2*DefaultConnectTimeout, "sessions that never connected to end", func() bool { return e.svc.sessionCount() == 0 })
	if c := tally(doAll(t, DefaultMaxSessionsPerToken, wp.post(tok))); c[answer{status: 201}] != DefaultMaxSessionsPerToken {
		t.Fatalf("offers on the same token once its sessions ended: %v", c)
	}
}

// TestHLSWaitingForKeyframe: live HLS of a stream that has sent no
// keyframe yet answers 503 waiting_for_keyframe with Retry-After within a
// few seconds, not a bare 500 after the muxer gives up.
func TestHLSWaitingForKeyframe(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 10*time.Second)
	st := e.hub.Publish("cam", testenv.Sample(t, "sample-h264.ts").Tracks) // no unit is ever written
	defer st.Close()
	u := e.base + "/live/v1/cam/index.m3u8?token=" + url.QueryEscape(e.token("cam", "live", time.Minute))
	a := doAll(t, 1, func() *http.Request { req, _ := http.NewRequest(http.MethodGet, u, nil); return req })[0]
	if a.status != http.StatusServiceUnavailable || a.code != "waiting_for_keyframe" || a.retry == "" {
		t.Fatalf("HLS before the first keyframe: %+v, want 503 waiting_for_keyframe with Retry-After", a)
	}
}

// TestHLSRequestsPerToken: one token holds at most DefaultMaxHLSPerToken
// HLS requests at once; the others are refused 429 at once, and another
// token is not affected.
func TestHLSRequestsPerToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 10*time.Second)
	// With no keyframe every admitted request waits a few seconds, so they
	// are all in progress together.
	st := e.hub.Publish("cam", testenv.Sample(t, "sample-h264.ts").Tracks)
	defer st.Close()
	get := func(tok string) func() *http.Request {
		return func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, e.base+"/live/v1/cam/index.m3u8?token="+url.QueryEscape(tok), nil)
			return req
		}
	}
	var other []answer
	var wg sync.WaitGroup
	wg.Go(func() { other = doAll(t, 1, get(e.token("cam", "live", 2*time.Minute))) })
	c := tally(doAll(t, DefaultMaxHLSPerToken+8, get(e.token("cam", "live", time.Minute))))
	wg.Wait()
	if c[answer{status: 503, code: "waiting_for_keyframe"}] != DefaultMaxHLSPerToken || c[answer{status: 429, code: "too_many_requests"}] != 8 {
		t.Fatalf("%d requests on one token: %v, want %d served and 8 refused 429", DefaultMaxHLSPerToken+8, c, DefaultMaxHLSPerToken)
	}
	if other[0].status != 503 || other[0].code != "waiting_for_keyframe" {
		t.Fatalf("another token: %+v", other[0])
	}
}
