package live

import (
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// nackHistory is how many sent packets of each viewer's stream are kept
// for retransmission on a NACK: about 1.5 s of 720p video, far more than a
// round trip; pion's default (1024) held about 1.5 MB per viewer.
const nackHistory = 256

// rtcAPI is the pion API every WebRTC session of the service is made with.
type rtcAPI struct {
	api *webrtc.API
	mux ice.UDPMux // the shared UDP port (Deps.ICEUDP); nil: a port per session
}

// close releases the shared UDP port.
func (r *rtcAPI) close() {
	if r.mux != nil {
		_ = r.mux.Close()
	}
}

// listenICEUDP opens the one UDP socket every session shares (Deps.ICEUDP).
//
// Batching its writes (pion/transport's udp.NewBatchConn, sendmmsg) was
// tried and left out: on the viewer benchmark it cost the same CPU per RTP
// packet sent as one sendto each, and its flusher's 1 ms ticker cost 3 %
// of a core with no viewer (docs/benchmarks.md, "WebRTC send cost").
func listenICEUDP(addr string) (ice.UDPMux, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	uc, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, err
	}
	return ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: uc}), nil
}

// newRTCAPI sets up codecs (pion's defaults: H.264, H.265, VP8/9, AV1, Opus,
// G.711...), the default interceptors (NACK, RTCP reports) and ICE: host
// candidates including loopback, no mDNS, the optional UDP port range and
// the optional 1:1 NAT addresses.
func newRTCAPI(d Deps, log *slog.Logger) *rtcAPI {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		log.Error("webrtc codecs", "err", err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptorsWithOptions(me, ir,
		webrtc.WithNackResponderOptions(nack.ResponderSize(nackHistory))); err != nil {
		log.Error("webrtc interceptors", "err", err)
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	se.SetICETimeouts(5*time.Second, 15*time.Second, 2*time.Second)
	if d.ICEPortMin != 0 || d.ICEPortMax != 0 {
		if err := se.SetEphemeralUDPPortRange(d.ICEPortMin, d.ICEPortMax); err != nil {
			log.Error("invalid WebRTC UDP port range: ignored", "min", d.ICEPortMin, "max", d.ICEPortMax, "err", err)
		}
	}
	r := &rtcAPI{}
	if d.ICEUDP != "" {
		mux, err := listenICEUDP(d.ICEUDP)
		if err != nil {
			log.Error("WebRTC UDP port not opened: a port per session instead", "addr", d.ICEUDP, "err", err)
		} else {
			r.mux = mux
			se.SetICEUDPMux(mux)
		}
	}
	if len(d.NAT1To1IPs) > 0 {
		err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{External: d.NAT1To1IPs,
			AsCandidateType: webrtc.ICECandidateTypeHost})
		if err != nil {
			log.Error("invalid WebRTC NAT 1:1 addresses: ignored", "ips", d.NAT1To1IPs, "err", err)
		}
	}
	r.api = webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	return r
}

// offerCodecs lists the codecs an SDP offer names, as "video/h264",
// "audio/opus", ... (lower case), over its media sections that are not
// rejected (port 0).
func offerCodecs(offer string) (map[string]bool, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(offer); err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Port.Value == 0 {
			continue
		}
		kind := strings.ToLower(md.MediaName.Media)
		for _, a := range md.Attributes {
			if a.Key != "rtpmap" {
				continue
			}
			_, enc, ok := strings.Cut(a.Value, " ")
			if !ok {
				continue
			}
			name, _, _ := strings.Cut(enc, "/")
			out[kind+"/"+strings.ToLower(name)] = true
		}
	}
	return out, nil
}
