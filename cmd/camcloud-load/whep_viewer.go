package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"
)

// viewerReadBuffer is the receive buffer asked for each viewer's UDP
// socket: hundreds of viewers in one process on a busy machine are not
// scheduled in time to empty the default (about 200 KB), and what the
// kernel drops there would be counted against the server.
const viewerReadBuffer = 4 << 20

// bigBufferNet is the host's network with large UDP receive buffers.
type bigBufferNet struct{ *stdnet.Net }

func (n bigBufferNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	_ = c.SetReadBuffer(viewerReadBuffer)
	return c, nil
}

// whepClient makes the PeerConnections of the WebRTC viewers: pion with
// its default codecs and interceptors (NACK, receiver reports), as a
// browser negotiates them, host candidates including loopback.
type whepClient struct {
	api  *webrtc.API
	http *http.Client
}

func newWHEPClient() (*whepClient, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		return nil, err
	}
	var se webrtc.SettingEngine
	sn, err := stdnet.NewNet()
	if err != nil {
		return nil, err
	}
	se.SetNet(bigBufferNet{sn})
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	return &whepClient{api: webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)),
		http: &http.Client{Timeout: 30 * time.Second}}, nil
}

// watchWHEP is one WebRTC viewer of whepURL until ctx ends: it offers to
// receive video and audio, posts the offer (every candidate gathered, no
// trickle), completes ICE and DTLS, and counts what it receives in st.
// It hangs up with a DELETE of the session's URL at the end. stall, when
// true, makes the viewer stop reading its packets once connected (a
// viewer that hangs without closing).
func (c *whepClient) watchWHEP(ctx context.Context, whepURL string, st *viewerStats, stall bool) error {
	t0 := time.Now()
	session := st.newSession()
	pc, err := c.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return err
	}
	defer func() { _ = pc.Close() }()
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			return err
		}
	}
	failed := make(chan struct{})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateConnected:
			st.connected(time.Since(t0))
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			select {
			case <-failed:
			default:
				close(failed)
			}
		}
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if tr.Kind() != webrtc.RTPCodecTypeVideo {
			buf := make([]byte, 1500)
			for {
				if _, _, err := tr.Read(buf); err != nil {
					return
				}
			}
		}
		if stall {
			<-ctx.Done() // never read: the packets pile up and are dropped
			return
		}
		readVideo(tr, t0, st, session)
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return err
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return ctx.Err()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, whepURL, bytes.NewReader([]byte(pc.LocalDescription().SDP)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/sdp")
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	answer, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	res.Body.Close()
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusCreated {
		return fmt.Errorf("WHEP offer: %s: %s", res.Status, bytes.TrimSpace(answer))
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(answer)}); err != nil {
		return err
	}
	sessionURL := ""
	if loc := res.Header.Get("Location"); loc != "" {
		if u, err := res.Request.URL.Parse(loc); err == nil {
			sessionURL = u.String()
		}
	}
	select {
	case <-ctx.Done():
	case <-failed:
		err = errors.New("WebRTC connection failed or closed")
	}
	if sessionURL != "" {
		hangUp(c.http, sessionURL)
	}
	return err
}

// hangUp deletes a WHEP session (with a fresh context: the viewer's ended).
func hangUp(c *http.Client, sessionURL string) {
	if _, err := url.Parse(sessionURL); err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, sessionURL, nil)
	if err != nil {
		return
	}
	if res, err := c.Do(req); err == nil {
		res.Body.Close()
	}
}

// readVideo counts the RTP packets of an H.264 or H.265 track and the
// frames they carry (a frame ends at a marker bit), from the first key
// frame on: before it nothing can be decoded.
func readVideo(tr *webrtc.TrackRemote, t0 time.Time, st *viewerStats, session int64) {
	h265 := tr.Codec().MimeType == webrtc.MimeTypeH265
	var pkt rtp.Packet
	buf := make([]byte, 1500)
	started := false
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			return
		}
		if err := pkt.Unmarshal(buf[:n]); err != nil {
			continue
		}
		if !started {
			if !keyStart(pkt.Payload, h265) {
				continue
			}
			started = true
		}
		st.packet(session, &pkt, t0)
	}
}

// keyStart reports whether an RTP payload begins a key frame: parameter
// sets or an IDR/IRAP picture, alone, aggregated (STAP-A, AP) or as the
// first fragment (FU-A, FU).
func keyStart(p []byte, h265 bool) bool {
	if h265 {
		if len(p) < 3 {
			return false
		}
		t := (p[0] >> 1) & 0x3f
		switch t {
		case 48: // AP: first NAL unit
			if len(p) < 5 {
				return false
			}
			t = (p[4] >> 1) & 0x3f
		case 49: // FU
			if p[2]&0x80 == 0 {
				return false
			}
			t = p[2] & 0x3f
		}
		return t >= 16 && t <= 23 || t == 32 || t == 33 || t == 34
	}
	if len(p) < 2 {
		return false
	}
	t := p[0] & 0x1f
	switch t {
	case 24: // STAP-A: first NAL unit
		if len(p) < 4 {
			return false
		}
		t = p[3] & 0x1f
	case 28: // FU-A
		if p[1]&0x80 == 0 {
			return false
		}
		t = p[1] & 0x1f
	}
	return t == 5 || t == 7 || t == 8
}
