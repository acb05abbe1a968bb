package rtsppub

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtpmpeg4audio"
	"github.com/bluenviron/gortsplib/v5/pkg/liberrors"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/pion/rtp"

	"github.com/camcloud/camcloud/internal/coalesce"
	"github.com/camcloud/camcloud/internal/rtppack"
)

var (
	testSPS = []byte{0x67, 0x64, 0x00, 0x0c, 0xac, 0x3b, 0x50, 0xb0, 0x4b, 0x42, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03, 0x00, 0x3d, 0x08}
	testPPS = []byte{0x68, 0xee, 0x3c, 0x80}
)

// got is one access unit as gortsplib's server decoded it.
type got struct {
	au  [][]byte
	ts  uint32 // RTP timestamp
	ntp time.Time
	ok  bool // ntp known (a sender report was received)
}

// recorder is a gortsplib server handler that accepts one publisher and
// decodes its packets with the formats' own decoders.
type recorder struct {
	user, pass string // required credentials, when set
	refuse     int    // answer ANNOUNCE with this status, when set

	mu     sync.Mutex
	units  map[int][]got // by media index
	errs   []error
	closed chan error
	sess   *gortsplib.ServerSession
}

func (h *recorder) OnAnnounce(ctx *gortsplib.ServerHandlerOnAnnounceCtx) (*base.Response, error) {
	if h.refuse != 0 {
		return &base.Response{StatusCode: base.StatusCode(h.refuse)}, errors.New("refused")
	}
	if h.user != "" && !ctx.Conn.VerifyCredentials(ctx.Request, h.user, h.pass) {
		return &base.Response{StatusCode: base.StatusUnauthorized}, liberrors.ErrServerAuth{}
	}
	return &base.Response{StatusCode: base.StatusOK}, nil
}

func (h *recorder) OnSetup(*gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	return &base.Response{StatusCode: base.StatusOK}, nil, nil
}

func (h *recorder) OnRecord(ctx *gortsplib.ServerHandlerOnRecordCtx) (*base.Response, error) {
	h.mu.Lock()
	h.sess = ctx.Session
	h.mu.Unlock()
	for i, m := range ctx.Session.AnnouncedDescription().Medias {
		f := m.Formats[0]
		var decode func(*rtp.Packet) ([][]byte, error)
		switch f := f.(type) {
		case *format.H264:
			d, err := f.CreateDecoder()
			if err != nil {
				return nil, err
			}
			decode = d.Decode
		case *format.MPEG4Audio:
			d, err := f.CreateDecoder()
			if err != nil {
				return nil, err
			}
			decode = d.Decode
		}
		ctx.Session.OnPacketRTP(m, f, func(pkt *rtp.Packet) {
			au, err := decode(pkt)
			if err != nil {
				if !errors.Is(err, rtph264.ErrMorePacketsNeeded) && !errors.Is(err, rtpmpeg4audio.ErrMorePacketsNeeded) {
					h.mu.Lock()
					h.errs = append(h.errs, err)
					h.mu.Unlock()
				}
				return
			}
			ntp, ok := ctx.Session.PacketNTP(m, pkt)
			h.mu.Lock()
			h.units[i] = append(h.units[i], got{au: au, ts: pkt.Timestamp, ntp: ntp, ok: ok})
			h.mu.Unlock()
		})
	}
	return &base.Response{StatusCode: base.StatusOK}, nil
}

func (h *recorder) OnSessionClose(ctx *gortsplib.ServerHandlerOnSessionCloseCtx) {
	select {
	case h.closed <- ctx.Error:
	default:
	}
}

// startServer runs a gortsplib server on 127.0.0.1 with h (rtsps when
// tc is given).
func startServer(t *testing.T, h *recorder, tc ...*tls.Config) string {
	t.Helper()
	h.units = map[int][]got{}
	h.closed = make(chan error, 1)
	var addr string
	srv := &gortsplib.Server{Handler: h, RTSPAddress: "127.0.0.1:0", ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second,
		Listen: func(network, address string) (net.Listener, error) {
			l, err := net.Listen(network, address)
			if err == nil {
				addr = l.Addr().String()
			}
			return l, err
		}}
	if len(tc) > 0 {
		srv.TLSConfig = tc[0]
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return addr
}

// publish starts a server with h and a session to it with cfg, closed
// when the test ends.
func publish(t *testing.T, h *recorder, cfg Config) *Session {
	t.Helper()
	addr := startServer(t, h)
	s, err := Start(context.Background(), "rtsp://"+addr+"/cam/secret", testTracks(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// testTracks returns an H.264 and an AAC track with rtppack packetisers.
func testTracks(t *testing.T) []Track {
	t.Helper()
	cfg := mpeg4audio.AudioSpecificConfig{Type: mpeg4audio.ObjectTypeAACLC, SampleRate: 48000, ChannelConfig: 2}
	return []Track{
		{Media: &description.Media{Type: description.MediaTypeVideo, Formats: []format.Format{&format.H264{PayloadTyp: 96, SPS: testSPS, PPS: testPPS, PacketizationMode: 1}}},
			ClockRate: 90000, SSRC: 0x1234, Pack: rtppack.NewH264(96, 0x1234, 65530, 0)},
		{Media: &description.Media{Type: description.MediaTypeAudio, Formats: []format.Format{&format.MPEG4Audio{PayloadTyp: 97, Config: &cfg, SizeLength: 13, IndexLength: 3, IndexDeltaLength: 3}}},
			ClockRate: 48000, SSRC: 0x5678, Pack: rtppack.NewMPEG4Audio(97, 0x5678, 7, 0)},
	}
}

// nal returns a NAL unit of type typ and n bytes whose content depends on seed.
func nal(typ byte, n int, seed byte) []byte {
	b := make([]byte, n)
	b[0] = typ
	for i := 1; i < n; i++ {
		b[i] = byte(i) ^ seed | 1 // no zero runs: not an emulation concern here, but realistic
	}
	return b
}

// TestRecordsToGortsplibServer publishes video (key and other frames of
// several packets) and audio to gortsplib's server, which decodes exactly
// the units sent, with their times, and maps them to the wall clock from
// the sender reports.
func TestRecordsToGortsplibServer(t *testing.T) {
	t.Parallel()
	h := &recorder{}
	// Reports every 0.5 s of the units' wall clock: several in the run.
	s := publish(t, h, Config{ReportPeriod: 500 * time.Millisecond})

	base := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	const frames = 50
	var wantV, wantA [][][]byte
	for i := range frames {
		var au [][]byte
		if i%25 == 0 {
			au = [][]byte{testSPS, testPPS, nal(0x65, 40000+i, byte(i))}
		} else {
			au = [][]byte{nal(0x41, 300+i*97, byte(i)), nal(0x41, 1459+i%3, byte(i+1))}
		}
		ntp := base.Add(time.Duration(i) * 40 * time.Millisecond)
		if err := s.Write(0, au, uint32(1000+i*3600), ntp, true); err != nil {
			t.Fatal(err)
		}
		wantV = append(wantV, au)
		aac := [][]byte{nal(0x21, 200+i, byte(i))}
		if err := s.Write(1, aac, uint32(50+i*1920), ntp, true); err != nil {
			t.Fatal(err)
		}
		wantA = append(wantA, aac)
	}
	waitFor(t, func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.units[0]) >= frames && len(h.units[1]) >= frames
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.errs) > 0 {
		t.Fatalf("the server's decoders failed: %v", h.errs)
	}
	check := func(name string, gotU []got, want [][][]byte, tick time.Duration, clock uint32) {
		for i, g := range gotU {
			if !slices.EqualFunc(g.au, want[i], bytes.Equal) {
				t.Fatalf("%s unit %d: decoded %d NAL units (%d bytes), sent %d (%d bytes)", name, i, len(g.au), size(g.au), len(want[i]), size(want[i]))
			}
			if i > 0 && g.ts-gotU[i-1].ts != clock {
				t.Fatalf("%s unit %d: RTP timestamp step %d, want %d", name, i, g.ts-gotU[i-1].ts, clock)
			}
			if i == 0 {
				continue // its packets came before the first sender report
			}
			if !g.ok {
				t.Fatalf("%s unit %d: no wall-clock time: no sender report arrived", name, i)
			}
			wantNTP := base.Add(time.Duration(i) * tick)
			if d := g.ntp.Sub(wantNTP); d < -time.Millisecond || d > time.Millisecond {
				t.Fatalf("%s unit %d: wall clock %v, sent %v", name, i, g.ntp, wantNTP)
			}
		}
	}
	check("video", h.units[0], wantV, 40*time.Millisecond, 3600)
	check("audio", h.units[1], wantA, 40*time.Millisecond, 1920)
}

// TestRTSPS records over TLS to a server whose certificate the client
// trusts, and refuses one it does not.
func TestRTSPS(t *testing.T) {
	t.Parallel()
	cert, pool := selfSigned(t)
	h := &recorder{}
	addr := startServer(t, h, &tls.Config{Certificates: []tls.Certificate{cert}})
	u := "rtsps://" + addr + "/cam/secret"
	if _, err := Start(context.Background(), u, testTracks(t), Config{}); err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Fatalf("an untrusted certificate: %v, want a TLS error", err)
	}
	s, err := Start(context.Background(), u, testTracks(t), Config{TLS: &tls.Config{RootCAs: pool}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 3 {
		if err := s.Write(0, [][]byte{testSPS, testPPS, nal(0x65, 9000, byte(i))}, uint32(i*3600), time.Now(), true); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, func() bool { h.mu.Lock(); defer h.mu.Unlock(); return len(h.units[0]) == 3 })
}

// selfSigned returns a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// TestCredentials answers the server's request for credentials with the
// URL's (digest, then basic) and fails clearly with wrong ones.
func TestCredentials(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		user   string
		pass   string
		wantOK bool
	}{
		{"right", "agent", "s3cret", true},
		{"wrong", "agent", "nope", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := &recorder{user: "agent", pass: "s3cret"}
			addr := startServer(t, h)
			s, err := Start(context.Background(), "rtsp://"+c.user+":"+c.pass+"@"+addr+"/cam", testTracks(t), Config{})
			if c.wantOK {
				if err != nil {
					t.Fatal(err)
				}
				s.Close()
				return
			}
			if err == nil {
				s.Close()
				t.Fatal("wrong credentials were accepted")
			}
			if !strings.Contains(err.Error(), "401") {
				t.Fatalf("error %q does not say the server refused the credentials (401)", err)
			}
			if strings.Contains(err.Error(), c.pass) {
				t.Fatalf("error %q shows the password", err)
			}
		})
	}
}

// TestRefusedAnnounce reports the server's status.
func TestRefusedAnnounce(t *testing.T) {
	t.Parallel()
	h := &recorder{refuse: 404}
	addr := startServer(t, h)
	_, err := Start(context.Background(), "rtsp://"+addr+"/nope", testTracks(t), Config{})
	if err == nil || !strings.Contains(err.Error(), "ANNOUNCE") || !strings.Contains(err.Error(), "404") {
		t.Fatalf("error %v, want the ANNOUNCE refusal with its 404", err)
	}
}

// TestServerEndsSession: once the server drops the session, Wait returns
// and writes fail, rather than sending into nothing.
func TestServerEndsSession(t *testing.T) {
	t.Parallel()
	h := &recorder{}
	s := publish(t, h, Config{})
	if err := s.Write(0, [][]byte{testSPS, testPPS, nal(0x65, 2000, 1)}, 0, time.Now(), true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { h.mu.Lock(); defer h.mu.Unlock(); return h.sess != nil })
	h.mu.Lock()
	h.sess.Close()
	h.mu.Unlock()
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the session did not end when the server closed it")
	}
	if err := s.Wait(); err == nil {
		t.Fatal("Wait returned no error")
	}
	if err := s.Write(0, [][]byte{nal(0x41, 100, 2)}, 3600, time.Now(), true); err == nil {
		t.Fatal("a write after the server closed the session succeeded")
	}
}

// TestBadInput: a bad unit is refused without ending the session; a bad
// URL or no tracks are refused before connecting.
func TestBadInput(t *testing.T) {
	t.Parallel()
	if _, err := Start(context.Background(), "http://127.0.0.1:1/x", testTracks(t), Config{}); err == nil || !strings.Contains(err.Error(), "scheme") {
		t.Fatalf("http URL: %v", err)
	}
	if _, err := Start(context.Background(), "rtsp://127.0.0.1:1/x", nil, Config{}); err == nil {
		t.Fatal("no tracks accepted")
	}
	h := &recorder{}
	s := publish(t, h, Config{})
	if err := s.Write(5, [][]byte{nal(0x41, 10, 0)}, 0, time.Now(), true); err == nil {
		t.Fatal("unit of an unknown track accepted")
	}
	if err := s.Write(0, [][]byte{{}}, 0, time.Now(), true); err == nil {
		t.Fatal("empty NAL unit accepted")
	}
	if err := s.Write(0, [][]byte{testSPS, testPPS, nal(0x65, 5000, 3)}, 0, time.Now(), true); err != nil {
		t.Fatalf("a good unit after a bad one: %v", err)
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}

func size(au [][]byte) int {
	n := 0
	for _, b := range au {
		n += len(b)
	}
	return n
}

// TestFlushSendsGathered: over a connection that gathers writes (package
// coalesce, here with an hour's window), a unit's packets wait until the
// writer flushes, then reach the server whole.
func TestFlushSendsGathered(t *testing.T) {
	t.Parallel()
	h := &recorder{}
	s := publish(t, h, Config{Wrap: func(nc net.Conn) net.Conn { return coalesce.Wrap(nc, time.Hour, nil) }})
	au := [][]byte{testSPS, testPPS, nal(0x65, 5000, 1)}
	if err := s.Write(0, au, 1000, time.Now(), false); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	h.mu.Lock()
	early := len(h.units[0])
	h.mu.Unlock()
	if early != 0 {
		t.Fatalf("the server decoded %d units before the flush; the connection should have held them", early)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.units[0]) == 1
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	if !slices.EqualFunc(h.units[0][0].au, au, bytes.Equal) {
		t.Fatal("the flushed unit decoded to other NAL units than were sent")
	}
}
