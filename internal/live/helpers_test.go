package live

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"

	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/testenv"
)

// env is a live service serving its media routes on 127.0.0.1.
type env struct {
	t    testing.TB
	hub  *hub.Hub
	sig  *auth.Signer
	svc  *Service
	srv  *httptest.Server
	base string
}

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("LIVE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func newEnv(t testing.TB, idle time.Duration) *env {
	t.Helper()
	return newEnvDeps(t, Deps{IdleTimeout: idle})
}

// newEnvDeps is newEnv with the service built from d (its Hub, Signer and
// Log filled in).
func newEnvDeps(t testing.TB, d Deps) *env {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	sig, err := auth.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	h := hub.New()
	d.Hub, d.Signer, d.Log = h, sig, testLogger(t)
	svc := New(d)
	mux := http.NewServeMux()
	svc.RegisterMedia(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { svc.Close(); srv.Close() })
	return &env{t: t, hub: h, sig: sig, svc: svc, srv: srv, base: srv.URL}
}

// token signs a media token.
func (e *env) token(camera, perm string, ttl time.Duration) string {
	e.t.Helper()
	tok, err := e.sig.Sign(auth.MediaClaims{CameraID: camera, Perm: perm, Subject: "u1", Expires: time.Now().Add(ttl)})
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// publish plays a sample into a new stream of camera in real time until
// the test ends (or stop is called). onWrite, when set, sees every unit
// just before it is written.
func publish(t testing.TB, h *hub.Hub, camera, name string, onWrite func(*hub.Unit)) (st *hub.Stream, stop func()) {
	t.Helper()
	smp := testenv.Sample(t, name)
	st = h.Publish(camera, smp.Tracks)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = smp.Play(ctx, func(u *hub.Unit) error {
			if onWrite != nil {
				onWrite(u)
			}
			st.Write(u)
			return nil
		})
	}()
	stop = sync.OnceFunc(func() { cancel(); <-done; st.Close() })
	t.Cleanup(stop)
	return st, stop
}

// get fetches a URL and returns status and body.
func get(t testing.TB, url string) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// errCode returns the code of a contract error body.
func errCode(b []byte) string {
	var v struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	_ = json.Unmarshal(b, &v)
	return v.Error.Code
}

// whepClient is a pion receiver speaking WHEP to the service, on loopback
// only.
type whepClient struct {
	pc       *webrtc.PeerConnection
	status   int
	body     []byte
	location string
	packets  chan rtpArrival
	mimes    chan string
}

// rtpArrival is one received RTP packet's timestamp, marker and arrival.
type rtpArrival struct {
	seq    uint16
	ts     uint32
	marker bool
	at     time.Time
}

// newWHEPClient negotiates with url. h264Only leaves H.265 out of the
// offer; read=false never reads the received tracks.
func newWHEPClient(t testing.TB, url string, h264Only, read bool) *whepClient {
	t.Helper()
	me := &webrtc.MediaEngine{}
	if h264Only {
		for _, c := range []webrtc.RTPCodecParameters{
			{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: h264Fmtp}, PayloadType: 102},
		} {
			if err := me.RegisterCodec(c, webrtc.RTPCodecTypeVideo); err != nil {
				t.Fatal(err)
			}
		}
		if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, PayloadType: 111}, webrtc.RTPCodecTypeAudio); err != nil {
			t.Fatal(err)
		}
	} else if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	var se webrtc.SettingEngine
	sn, err := stdnet.NewNet()
	if err != nil {
		t.Fatal(err)
	}
	se.SetNet(bigBufferNet{sn})
	testenv.LoopbackOnly(&se)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	c := &whepClient{pc: pc, packets: make(chan rtpArrival, 100000), mimes: make(chan string, 4)}
	t.Cleanup(func() { _ = pc.Close() })
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		c.mimes <- tr.Codec().MimeType
		if !read {
			return
		}
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			if tr.Kind() == webrtc.RTPCodecTypeVideo {
				select {
				case c.packets <- rtpArrival{seq: p.SequenceNumber, ts: p.Timestamp, marker: p.Marker, at: time.Now()}:
				default:
				}
			}
		}
	})
	res := testenv.PostWHEPOffer(t, pc, url)
	defer res.Body.Close()
	c.body, _ = io.ReadAll(res.Body)
	c.status, c.location = res.StatusCode, res.Header.Get("Location")
	if res.StatusCode == http.StatusCreated {
		if ct := res.Header.Get("Content-Type"); ct != "application/sdp" {
			t.Fatalf("answer content type %q", ct)
		}
		if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(c.body)}); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// bigBufferNet is the host's network with 4 MB UDP receive buffers: a
// test viewer starved on a busy machine (or under -race) would otherwise
// lose in its kernel socket what the server sent.
type bigBufferNet struct{ *stdnet.Net }

func (n bigBufferNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	_ = c.SetReadBuffer(4 << 20)
	return c, nil
}

// waitPackets waits for n video packets.
func (c *whepClient) waitPackets(t testing.TB, n int, d time.Duration) []rtpArrival {
	t.Helper()
	var got []rtpArrival
	timeout := time.After(d)
	for len(got) < n {
		select {
		case p := <-c.packets:
			got = append(got, p)
		case <-timeout:
			t.Fatalf("received %d video RTP packets within %s, want %d (connection %s)", len(got), d, n, c.pc.ConnectionState())
		}
	}
	return got
}

// deleteURL sends DELETE to a URL relative to base.
func deleteURL(t testing.TB, base, loc string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, base+loc, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// feedVideoOffset is the RTP timestamp offset of the packets the WebRTC
// feed of camera sends for its video track 1.
func feedVideoOffset(tb testing.TB, s *Service, camera string) uint32 {
	tb.Helper()
	s.mu.Lock()
	f := s.feeds[camera]
	s.mu.Unlock()
	if f == nil {
		tb.Fatal("no WebRTC feed for", camera)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, fp := range f.packs {
		if k.track == 1 {
			return fp.pack.(*videoPacketizer).offset
		}
	}
	tb.Fatal("the feed packetises no video")
	return 0
}
