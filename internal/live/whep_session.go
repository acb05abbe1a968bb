package live

import (
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/usage"
)

// WebRTC session settings.
const (
	whepReaderBuf = 256 // units: a few seconds; a viewer further behind skips ahead
)

// rtpTrack is one hub track sent to one viewer.
type rtpTrack struct {
	local *webrtc.TrackLocalStaticRTP
	key   packKey
	video bool
}

// whepSession is one WebRTC viewer: a PeerConnection fed from its own
// queue of the camera's rtpFeed, so that it never holds up the publisher
// or other viewers.
type whepSession struct {
	s      *Service
	id     string
	camera string
	share  string // the share link of its token, "" for none
	pc     *webrtc.PeerConnection
	stream *hub.Stream
	tracks map[int]*rtpTrack
	log    *slog.Logger
	// usage counts the RTP payload bytes sent (nil: not counted).
	usage *usage.Counter
	// release gives back the session's admission (limits.go).
	release func()

	connected     chan struct{}
	connectedOnce sync.Once
	done          chan struct{}
	closeOnce     sync.Once
	skips         int
}

// watch ends the session when its connection fails or closes, and when it
// does not connect in time.
func (w *whepSession) watch() {
	w.pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateConnected:
			w.connectedOnce.Do(func() { close(w.connected) })
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			w.close("connection " + st.String())
		}
	})
	go func() {
		limit := w.s.d.ConnectTimeout
		t := time.NewTimer(limit)
		defer t.Stop()
		select {
		case <-w.connected:
		case <-w.done:
		case <-t.C:
			w.close("not connected within " + limit.String())
		}
	}()
}

// drainRTCP reads the RTCP of a sender so that pion's interceptors (NACK,
// receiver reports) work; it ends with the session.
func drainRTCP(sender *webrtc.RTPSender) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := sender.Read(buf); err != nil {
			return
		}
	}
}

// pump sends the stream to the viewer: nothing before the connection is up,
// then from a keyframe on. A viewer that falls behind loses its queue and
// gets a new one, starting again at the next keyframe.
func (w *whepSession) pump(f *rtpFeed, sub *feedSub, plans []rtcPlan) {
	defer func() {
		if sub != nil {
			f.unsubscribe(sub)
		}
	}()
	waitKey := true
	for {
		select {
		case <-w.done:
			return
		case it, ok := <-sub.ch:
			if !ok {
				if !f.overflowed(sub) {
					w.close("stream ended")
					return
				}
				f.unsubscribe(sub)
				sub = nil
				w.skips++
				w.s.m.skips.Inc()
				if w.skips <= 3 || w.skips%100 == 0 {
					w.log.Info("WebRTC viewer fell behind: skipping to the next keyframe", "skips", w.skips)
				}
				nf, ns, err := w.s.join(w.stream, plans)
				if err != nil {
					w.close("stream ended")
					return
				}
				f, sub, waitKey = nf, ns, true
				continue
			}
			select {
			case <-w.connected:
			default:
				continue
			}
			u := it.unit
			t := w.tracks[u.Track]
			if t == nil {
				continue
			}
			if waitKey {
				if !t.video || !u.Key {
					continue
				}
				waitKey = false
			}
			sent := 0
			for _, p := range it.pkts[t.key] {
				if err := t.local.WriteRTP(p); err != nil {
					if errors.Is(err, io.ErrClosedPipe) {
						w.usage.Add(usage.EgressWebRTC, int64(sent))
						w.close("connection closed")
						return
					}
					continue
				}
				sent += len(p.Payload)
			}
			w.usage.Add(usage.EgressWebRTC, int64(sent))
		}
	}
}

// close ends the session once.
func (w *whepSession) close(why string) {
	w.closeOnce.Do(func() {
		close(w.done)
		w.release()
		w.s.mu.Lock()
		if w.s.sessions[w.id] == w {
			delete(w.s.sessions, w.id)
		}
		w.s.mu.Unlock()
		// Closing from inside a pion callback must not wait on that callback.
		go func() { _ = w.pc.Close() }()
		w.log.Info("WebRTC session ended", "reason", why)
	})
}
