package fastpath

// These tests pin the behaviours of gortsplib that the fast path relies
// on. They run gortsplib itself (its server and its client, on 127.0.0.1)
// against a scripted peer that sends exact bytes; none of the fast path's
// code is involved, so a failure here after a gortsplib upgrade means the
// library changed under the fast path, not that the fast path broke:
//
//   - the server sets a read deadline, ReadTimeout ahead, before every
//     message it reads from a recording TCP session (so batchConn may
//     defer those deadlines, and every frame the library reads renews it);
//   - the server and the client ignore interleaved frames of channels
//     they do not know, empty ones included (keepAliveFrame);
//   - the client counts any inbound message as a sign of life and gives up
//     after ReadTimeout of silence (so keepAliveFrame keeps a pulled
//     connection whose video is all tapped alive);
//   - the server hands back, as ServerConn.NetConn, the very connection
//     its listener returned, and the client reads the media through the
//     connection its DialContext returned (ingest asserts those to
//     Tapper).

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/gortsplib/v5/pkg/liberrors"
	"github.com/pion/rtp"
)

// deadlineCall is one SetReadDeadline call: when, and how far ahead.
type deadlineCall struct {
	at    time.Time
	ahead time.Duration
}

// deadlineConn records the read deadlines set on a connection.
type deadlineConn struct {
	net.Conn
	mu    sync.Mutex
	calls []deadlineCall
}

func (c *deadlineConn) SetReadDeadline(t time.Time) error {
	now := time.Now()
	c.mu.Lock()
	c.calls = append(c.calls, deadlineCall{at: now, ahead: t.Sub(now)})
	c.mu.Unlock()
	return c.Conn.SetReadDeadline(t)
}

func (c *deadlineConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.Conn.SetWriteDeadline(t)
}

// deadlinesNear counts the read deadlines set since from that were about
// d ahead (the library computes them from the clock just before the call).
func (c *deadlineConn) deadlinesNear(from time.Time, d time.Duration) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, k := range c.calls {
		if !k.at.Before(from) && k.ahead <= d && k.ahead > d-time.Second {
			n++
		}
	}
	return n
}

// recordingListener hands out deadlineConns and keeps them.
type recordingListener struct {
	net.Listener
	conns chan *deadlineConn
}

func (l *recordingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	dc := &deadlineConn{Conn: c}
	l.conns <- dc
	return dc, nil
}

// recordHandler accepts any publisher and counts its RTP packets.
type recordHandler struct {
	packets  atomic.Int64
	netConn  chan net.Conn // ServerConn.NetConn at RECORD
	closeErr chan error    // the error a connection closed with
}

func (h *recordHandler) OnAnnounce(*gortsplib.ServerHandlerOnAnnounceCtx) (*base.Response, error) {
	return &base.Response{StatusCode: base.StatusOK}, nil
}

func (h *recordHandler) OnSetup(*gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	return &base.Response{StatusCode: base.StatusOK}, nil, nil
}

func (h *recordHandler) OnRecord(ctx *gortsplib.ServerHandlerOnRecordCtx) (*base.Response, error) {
	ctx.Session.OnPacketRTPAny(func(*description.Media, format.Format, *rtp.Packet) { h.packets.Add(1) })
	h.netConn <- ctx.Conn.NetConn()
	return &base.Response{StatusCode: base.StatusOK}, nil
}

func (h *recordHandler) OnConnClose(ctx *gortsplib.ServerHandlerOnConnCloseCtx) {
	h.closeErr <- ctx.Error
}

const contractSDP = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n" +
	"m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\na=control:trackID=0\r\n"

// rtspPeer speaks RTSP by hand over one connection.
type rtspPeer struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
	mu   sync.Mutex // serialises writes
	cseq int
}

func (p *rtspPeer) write(b []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := p.conn.Write(b)
	return err
}

// request sends a request and returns the answer, failing unless it is 200.
func (p *rtspPeer) request(method, url string, header map[string]string, body string) *base.Response {
	p.t.Helper()
	p.cseq++
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s RTSP/1.0\r\nCSeq: %d\r\n", method, url, p.cseq)
	for k, v := range header {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	if body != "" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n" + body)
	if err := p.write([]byte(b.String())); err != nil {
		p.t.Fatal(err)
	}
	var res base.Response
	if err := res.Unmarshal(p.br); err != nil {
		p.t.Fatal(err)
	}
	if res.StatusCode != base.StatusOK {
		p.t.Fatalf("%s: %d %s", method, res.StatusCode, res.StatusMessage)
	}
	return &res
}

// frame is an interleaved frame.
func frame(ch byte, payload []byte) []byte {
	return append([]byte{'$', ch, byte(len(payload) >> 8), byte(len(payload))}, payload...)
}

// rtpFrame is an H.264 RTP packet (one IDR slice) on channel 0.
func rtpFrame(t *testing.T, seq uint16) []byte {
	t.Helper()
	b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: uint32(seq) * 3600,
		SSRC: 1, Marker: true}, Payload: []byte{0x65, 0x88, 0x84, 0x00}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return frame(0, b)
}

// sendFor writes f every interval for d.
func sendFor(p *rtspPeer, f []byte, interval, d time.Duration) error {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(interval) {
		if err := p.write(f); err != nil {
			return err
		}
	}
	return nil
}

// TestGortsplibServerContract records to a gortsplib server over TCP by
// hand: every message read sets a read deadline ReadTimeout ahead, frames
// on channel 255 reach no callback but keep the session alive past
// ReadTimeout, and silence then ends the connection with a timeout.
func TestGortsplibServerContract(t *testing.T) {
	t.Parallel()
	const readTimeout = 2 * time.Second
	h := &recordHandler{netConn: make(chan net.Conn, 1), closeErr: make(chan error, 1)}
	ln := &recordingListener{conns: make(chan *deadlineConn, 1)}
	srv := &gortsplib.Server{RTSPAddress: "127.0.0.1:0", ReadTimeout: readTimeout, WriteTimeout: readTimeout,
		IdleTimeout: 20 * time.Second, Handler: h,
		Listen: func(network, address string) (net.Listener, error) {
			l, err := net.Listen(network, address)
			ln.Listener = l
			return ln, err
		}}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p := &rtspPeer{t: t, conn: c, br: bufio.NewReader(c)}
	u := "rtsp://" + ln.Addr().String() + "/cam"
	p.request("ANNOUNCE", u, map[string]string{"Content-Type": "application/sdp"}, contractSDP)
	res := p.request("SETUP", u+"/trackID=0", map[string]string{"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1;mode=record"}, "")
	session, _, _ := strings.Cut(strings.Join(res.Header["Session"], ""), ";")
	p.request("RECORD", u, map[string]string{"Session": session}, "")
	accepted := <-ln.conns
	if got := <-h.netConn; got != net.Conn(accepted) {
		t.Fatalf("ServerConn.NetConn is %T, not the connection the listener returned", got)
	}
	recording := time.Now()

	// Every RTP packet read renews the read deadline, ReadTimeout ahead.
	const packets = 20
	for i := range packets {
		if err := p.write(rtpFrame(t, uint16(i))); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); h.packets.Load() < packets; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the server delivered %d of %d RTP packets", h.packets.Load(), packets)
		}
	}
	// (The deadline for the first packet may be set before the RECORD
	// answer reached us.)
	if n := accepted.deadlinesNear(recording, readTimeout); n < packets-1 {
		t.Fatalf("%d read deadlines %v ahead for %d packets read while recording", n, readTimeout, packets)
	}

	// Empty frames on channel 255, for twice ReadTimeout: ignored, yet each
	// renews the deadline, so the session lives on.
	keepAlive := time.Now()
	if err := sendFor(p, frame(255, nil), 250*time.Millisecond, 2*readTimeout); err != nil {
		t.Fatalf("writing keep-alive frames: %v", err)
	}
	select {
	case err := <-h.closeErr:
		t.Fatalf("connection closed while channel-255 frames came: %v", err)
	default:
	}
	if h.packets.Load() != packets {
		t.Fatalf("%d packets delivered; frames on channel 255 reached a callback", h.packets.Load())
	}
	if n := accepted.deadlinesNear(keepAlive, readTimeout); n < 8 {
		t.Fatalf("%d read deadlines renewed by about 16 keep-alive frames", n)
	}

	// Silence: the deadline ends the session.
	select {
	case err := <-h.closeErr:
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("connection closed with %v, want a read timeout", err)
		}
	case <-time.After(readTimeout + 10*time.Second):
		t.Fatal("a silent recording connection was not closed")
	}
}

// scriptedCamera serves one RTSP PLAY session by hand and, once playing,
// sends one RTP packet and then only empty frames on channel 255 until
// stop is closed.
func scriptedCamera(t *testing.T, ln net.Listener, stop <-chan struct{}) {
	c, err := ln.Accept()
	if err != nil {
		return
	}
	defer c.Close()
	p := &rtspPeer{t: t, conn: c, br: bufio.NewReader(c)}
	playing := make(chan struct{})
	go func() {
		<-playing
		if p.write(rtpFrame(t, 1)) != nil {
			return
		}
		for {
			select {
			case <-stop:
				return
			case <-time.After(250 * time.Millisecond):
				if p.write(frame(255, nil)) != nil {
					return
				}
			}
		}
	}()
	baseURL := "rtsp://" + ln.Addr().String() + "/cam/"
	for {
		b, err := p.br.Peek(1)
		if err != nil {
			return
		}
		if b[0] == '$' { // the client's RTCP receiver reports
			var fr base.InterleavedFrame
			if fr.Unmarshal(p.br) != nil {
				return
			}
			continue
		}
		var req base.Request
		if req.Unmarshal(p.br) != nil {
			return
		}
		head := "RTSP/1.0 200 OK\r\nCSeq: " + strings.Join(req.Header["CSeq"], "") + "\r\nSession: 12345678;timeout=60\r\n"
		var msg string
		switch req.Method {
		case base.Describe:
			msg = head + "Content-Type: application/sdp\r\nContent-Base: " + baseURL + "\r\nContent-Length: " +
				strconv.Itoa(len(contractSDP)) + "\r\n\r\n" + contractSDP
		case base.Setup:
			msg = head + "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n"
		case base.Options:
			msg = head + "Public: DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER\r\n\r\n"
		default:
			msg = head + "\r\n"
		}
		if p.write([]byte(msg)) != nil {
			return
		}
		if req.Method == base.Play {
			close(playing)
		}
	}
}

// countingReads counts the bytes read from a connection.
type countingReads struct {
	net.Conn
	n atomic.Int64
}

func (c *countingReads) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// TestGortsplibClientContract plays from a scripted camera with the
// gortsplib client over TCP: frames on channel 255 reach no callback but
// count as inbound traffic past ReadTimeout, and silence then ends the
// session with the client's TCP timeout.
func TestGortsplibClientContract(t *testing.T) {
	t.Parallel()
	const readTimeout = 3 * time.Second // the client counts in whole seconds
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	stop := make(chan struct{})
	served := make(chan struct{})
	go func() { defer close(served); scriptedCamera(t, ln, stop) }()
	defer func() { <-served }()

	tcp := gortsplib.ProtocolTCP
	var dialed *countingReads
	c := &gortsplib.Client{Scheme: "rtsp", Host: ln.Addr().String(), Protocol: &tcp, ReadTimeout: readTimeout,
		WriteTimeout: readTimeout,
		DialContext: func(ctx context.Context, network, address string) (net.Conn, error) {
			nc, err := (&net.Dialer{}).DialContext(ctx, network, address)
			if err != nil {
				return nil, err
			}
			dialed = &countingReads{Conn: nc}
			return dialed, nil
		}}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	u, err := base.ParseURL("rtsp://" + ln.Addr().String() + "/cam/")
	if err != nil {
		t.Fatal(err)
	}
	desc, _, err := c.Describe(u)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetupAll(desc.BaseURL, desc.Medias); err != nil {
		t.Fatal(err)
	}
	var packets atomic.Int64
	c.OnPacketRTPAny(func(*description.Media, format.Format, *rtp.Packet) { packets.Add(1) })
	if _, err := c.Play(nil); err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, 1)
	go func() { ended <- c.Wait() }()
	before := dialed.n.Load()

	select {
	case err := <-ended:
		t.Fatalf("the client gave up while channel-255 frames came: %v", err)
	case <-time.After(2 * readTimeout):
	}
	if n := packets.Load(); n != 1 {
		t.Fatalf("%d packets delivered, want the one RTP packet (frames on channel 255 reached a callback?)", n)
	}
	// The media is read through the connection DialContext gave (the
	// Puller taps that one): about 24 keep-alive frames of 4 bytes.
	if n := dialed.n.Load() - before; n < 4*12 {
		t.Fatalf("%d bytes read through the dialled connection while playing", n)
	}

	close(stop)
	select {
	case err := <-ended:
		var te liberrors.ErrClientTCPTimeout
		if !errors.As(err, &te) {
			t.Fatalf("the client ended with %v, want its TCP timeout", err)
		}
	case <-time.After(readTimeout + 10*time.Second):
		t.Fatal("the client did not time out on a silent connection")
	}
}
