package live

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/camcloud/camcloud/internal/hub"
)

// WHEP request bounds.
const (
	maxOfferSize  = 64 << 10
	gatherTimeout = 10 * time.Second
)

// h264Fmtp is the H.264 profile browsers all decode; the camera's own
// profile is sent as is and decoders take it.
const h264Fmtp = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"

// errCodec is a codec mismatch between the stream and the viewer's offer.
type errCodec struct{ msg string }

func (e *errCodec) Error() string { return e.msg }

// rtcPlan is one track to send: where it comes from and how it is sent.
type rtcPlan struct {
	hubID int
	cap   webrtc.RTPCodecCapability
	kind  string
	pack  packetizer
	video bool
}

// planTracks chooses what to send for the stream's tracks given the codecs
// of the offer: the first video track (H.264; H.265 only when offered), and
// the first audio track WebRTC can carry (Opus; G.711 as PCMU or PCMA).
// AAC cannot go to WebRTC and is left out, as is audio the offer lacks.
func planTracks(tracks []hub.Track, offered map[string]bool) (plans []rtcPlan, skipped []string, err error) {
	var video, audio bool
	for _, t := range tracks {
		switch c := t.Codec.(type) {
		case *codecs.H264:
			if video {
				continue
			}
			if !offered["video/h264"] {
				return nil, nil, &errCodec{"the camera sends H.264 video and the offer has no H264 codec"}
			}
			p, err := newVideoPacketizer(c)
			if err != nil {
				return nil, nil, err
			}
			plans = append(plans, rtcPlan{hubID: t.ID, kind: "video", pack: p, video: true,
				cap: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: h264Fmtp}})
			video = true
		case *codecs.H265:
			if video {
				continue
			}
			if !offered["video/h265"] {
				return nil, nil, &errCodec{"the camera sends H.265 video and the offer has no H265 codec (this browser cannot play H.265 over WebRTC): use the HLS URL instead"}
			}
			p, err := newVideoPacketizer(c)
			if err != nil {
				return nil, nil, err
			}
			plans = append(plans, rtcPlan{hubID: t.ID, kind: "video", pack: p, video: true,
				cap: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH265, ClockRate: 90000}})
			video = true
		case *codecs.Opus:
			if audio || t.ClockRate != 48000 || !offered["audio/opus"] {
				skipped = append(skipped, "Opus audio (not in the offer)")
				continue
			}
			plans = append(plans, rtcPlan{hubID: t.ID, kind: "audio", pack: newFramePacketizer(),
				cap: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}})
			audio = true
		case *codecs.LPCM:
			g711 := c.BitDepth == 16 && !c.LittleEndian && c.SampleRate == 8000 && c.ChannelCount == 1
			switch {
			case audio || !g711:
				skipped = append(skipped, "LPCM audio other than 8 kHz mono G.711")
			case offered["audio/pcmu"]:
				plans = append(plans, rtcPlan{hubID: t.ID, kind: "audio", pack: newG711Packetizer(true),
					cap: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}})
				audio = true
			case offered["audio/pcma"]:
				plans = append(plans, rtcPlan{hubID: t.ID, kind: "audio", pack: newG711Packetizer(false),
					cap: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMA, ClockRate: 8000}})
				audio = true
			default:
				skipped = append(skipped, "G.711 audio (neither PCMU nor PCMA in the offer)")
			}
		case *codecs.MPEG4Audio:
			skipped = append(skipped, "AAC audio (WebRTC cannot carry AAC)")
		default:
			skipped = append(skipped, fmt.Sprintf("track %d (%T)", t.ID, t.Codec))
		}
	}
	if !video {
		return nil, nil, &errCodec{"the stream has no H.264 or H.265 video track"}
	}
	return plans, skipped, nil
}

// serveWHEP answers a WHEP offer (RFC 9725 style): 201 with the SDP answer,
// every ICE candidate included (no trickle), and the session's URL in
// Location.
func (s *Service) serveWHEP(w http.ResponseWriter, r *http.Request) {
	camera, p, ok := s.authorize(w, r)
	if !ok {
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/sdp" {
		fail(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "send the SDP offer as application/sdp")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxOfferSize))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			fail(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the SDP offer is larger than %d bytes", maxOfferSize))
			return
		}
		fail(w, http.StatusBadRequest, "bad_request", "could not read the SDP offer")
		return
	}
	stream := s.d.Hub.Get(camera)
	if stream == nil {
		notLive(w, camera)
		return
	}
	release, lerr := s.admitSession(p)
	if lerr != nil {
		lerr.answer(w)
		return
	}
	admitted := false
	defer func() {
		if !admitted {
			release()
		}
	}()
	offered, err := offerCodecs(string(body))
	if err != nil {
		fail(w, http.StatusBadRequest, "bad_sdp", "malformed SDP offer: "+err.Error())
		return
	}
	plans, skipped, err := planTracks(stream.Tracks, offered)
	var ce *errCodec
	if errors.As(err, &ce) {
		fail(w, http.StatusNotAcceptable, "codec_unsupported", ce.msg)
		return
	} else if err != nil {
		s.log.Error("WebRTC track setup failed", "camera", camera, "err", err)
		fail(w, http.StatusInternalServerError, "internal", "internal error")
		return
	}
	sess, answer, status, err := s.newSession(r.Context(), camera, p.share, stream, string(body), plans, release)
	if err != nil {
		code := "bad_sdp"
		switch status {
		case http.StatusNotFound:
			notLive(w, camera)
			return
		case http.StatusServiceUnavailable:
			code = "unavailable"
		case http.StatusInternalServerError:
			s.log.Error("WebRTC session setup failed", "camera", camera, "err", err)
			fail(w, status, "internal", "internal error")
			return
		}
		fail(w, status, code, err.Error())
		return
	}
	admitted = true
	if len(skipped) > 0 {
		sess.log.Info("tracks left out of WebRTC", "tracks", skipped)
	}
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", "/live/v1/"+camera+"/whep/"+sess.id)
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, answer)
}

// newSession negotiates a PeerConnection for offer and starts feeding it.
// On failure it returns the HTTP status to answer with.
// release is the session's admission, given back when it ends; share is
// the share link its token was minted for ("" for none), whose revocation
// ends it (sweepShares).
func (s *Service) newSession(ctx context.Context, camera, share string, stream *hub.Stream, offer string, plans []rtcPlan, release func()) (*whepSession, string, int, error) {
	pc, err := s.rtc.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, "", http.StatusInternalServerError, err
	}
	var idb [16]byte
	_, _ = rand.Read(idb[:])
	sess := &whepSession{s: s, id: hex.EncodeToString(idb[:]), camera: camera, share: share, pc: pc, stream: stream,
		usage:  s.d.Meter.Camera(s.d.Zone, "", camera),
		tracks: map[int]*rtpTrack{}, connected: make(chan struct{}), done: make(chan struct{}), release: release}
	sess.log = s.log.With("camera", camera, "proto", "webrtc", "session", sess.id[:8])
	abort := func(status int, err error) (*whepSession, string, int, error) {
		_ = pc.Close()
		return nil, "", status, err
	}
	for _, p := range plans {
		local, err := webrtc.NewTrackLocalStaticRTP(p.cap, p.kind, "camcloud")
		if err != nil {
			return abort(http.StatusInternalServerError, err)
		}
		tr, err := pc.AddTransceiverFromTrack(local, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return abort(http.StatusInternalServerError, err)
		}
		go drainRTCP(tr.Sender())
		sess.tracks[p.hubID] = &rtpTrack{local: local, key: packKey{track: p.hubID, mime: p.cap.MimeType}, video: p.video}
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return abort(http.StatusBadRequest, fmt.Errorf("the SDP offer was refused: %v", err))
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return abort(http.StatusBadRequest, fmt.Errorf("no answer to this offer: %v", err))
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return abort(http.StatusBadRequest, fmt.Errorf("no answer to this offer: %v", err))
	}
	select {
	case <-gathered:
	case <-time.After(gatherTimeout):
		return abort(http.StatusInternalServerError, errors.New("ICE gathering timed out"))
	case <-ctx.Done():
		return abort(http.StatusServiceUnavailable, errors.New("request ended"))
	}
	feed, sub, err := s.join(stream, plans)
	if errors.Is(err, errServiceClosed) {
		return abort(http.StatusServiceUnavailable, errors.New("the live service is shutting down"))
	} else if err != nil {
		return abort(http.StatusNotFound, err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		feed.unsubscribe(sub)
		return abort(http.StatusServiceUnavailable, errors.New("the live service is shutting down"))
	}
	s.sessions[sess.id] = sess
	s.mu.Unlock()
	s.m.sessions.Inc()
	sess.watch()
	go sess.pump(feed, sub, plans)
	sess.log.Info("WebRTC session started")
	return sess, pc.LocalDescription().SDP, http.StatusCreated, nil
}

// deleteWHEP ends a session (the DELETE of RFC 9725). The unguessable
// session id in the URL is the capability; no token is needed to hang up.
func (s *Service) deleteWHEP(w http.ResponseWriter, r *http.Request) {
	cors(w)
	s.mu.Lock()
	sess := s.sessions[r.PathValue("session")]
	s.mu.Unlock()
	if sess == nil || sess.camera != r.PathValue("camera") {
		fail(w, http.StatusNotFound, "not_found", "no such WebRTC session")
		return
	}
	sess.close("viewer hung up")
	w.WriteHeader(http.StatusOK)
}

// patchWHEP refuses trickle ICE and ICE restarts: the answer already holds
// every candidate. RFC 9725 asks for 405 then.
func (s *Service) patchWHEP(w http.ResponseWriter, r *http.Request) {
	cors(w)
	w.Header().Set("Allow", "DELETE, OPTIONS")
	fail(w, http.StatusMethodNotAllowed, "method_not_allowed", "trickle ICE is not supported: send every candidate in the offer")
}
