package testenv

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// WHEPViewer is a real WebRTC viewer (pion) of a WHEP URL, on loopback
// only, that reads every track and counts what it received.
type WHEPViewer struct {
	PC *webrtc.PeerConnection
	// Location is the session URL the server answered (for DELETE).
	Location string
	payload  atomic.Int64
	packets  atomic.Int64
}

// PayloadBytes is the RTP payload bytes received so far, every track.
func (v *WHEPViewer) PayloadBytes() int64 { return v.payload.Load() }

// Packets is the RTP packets received so far, every track.
func (v *WHEPViewer) Packets() int64 { return v.packets.Load() }

// Close ends the viewer's connection.
func (v *WHEPViewer) Close() { _ = v.PC.Close() }

// WatchWHEP offers to receive video and audio from url (a WHEP endpoint
// carrying its token) and reads every track it gets until Close (or the
// test's end); it fails the test unless the server answers 201.
func WatchWHEP(t testing.TB, url string) *WHEPViewer {
	t.Helper()
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	var se webrtc.SettingEngine
	LoopbackOnly(&se)
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	v := &WHEPViewer{PC: pc}
	t.Cleanup(v.Close)
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			v.packets.Add(1)
			v.payload.Add(int64(len(p.Payload)))
		}
	})
	res := PostWHEPOffer(t, pc, url)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("WHEP offer: %d %s", res.StatusCode, body)
	}
	v.Location = res.Header.Get("Location")
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(body)}); err != nil {
		t.Fatal(err)
	}
	return v
}

// LoopbackOnly keeps a pion peer to UDP over 127.0.0.1: the tests' network.
func LoopbackOnly(se *webrtc.SettingEngine) {
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetRemoteIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
}

// PostWHEPOffer makes pc's offer, waits until its ICE candidates are
// gathered and posts it to url as a WHEP client does; the caller reads
// and closes the answer.
func PostWHEPOffer(t testing.TB, pc *webrtc.PeerConnection, url string) *http.Response {
	t.Helper()
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	res, err := http.Post(url, "application/sdp", strings.NewReader(pc.LocalDescription().SDP))
	if err != nil {
		t.Fatal(err)
	}
	return res
}
