package live

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/usage"
)

// errNotLive means the camera is not published on this server.
var errNotLive = errors.New("live: camera not published here")

// errServiceClosed means Close was called.
var errServiceClosed = errors.New("live: service closed")

// serveHLS serves the multivariant playlist, media playlists, init
// segments, segments and parts of a camera's live muxer, starting it on the
// first request. gohlslib copies the request's query (the token) into every
// URL it writes into playlists, so players carry the token along.
func (s *Service) serveHLS(w http.ResponseWriter, r *http.Request) {
	camera, p, ok := s.authorize(w, r)
	if !ok {
		return
	}
	done, lerr := s.admitHLS(p)
	if lerr != nil {
		lerr.answer(w)
		return
	}
	defer done()
	file := r.PathValue("file")
	if !validHLSFile(file) {
		fail(w, http.StatusNotFound, "not_found", "no such live HLS file")
		return
	}
	for range 2 {
		m, err := s.muxerFor(camera)
		switch {
		case errors.Is(err, errNotLive):
			notLive(w, camera)
			return
		case errors.Is(err, errServiceClosed):
			fail(w, http.StatusServiceUnavailable, "unavailable", "the live service is shutting down")
			return
		case err != nil:
			fail(w, http.StatusUnprocessableEntity, "unsupported_stream", "live HLS cannot be made of this stream: "+err.Error())
			return
		}
		if !m.begin(viewerKey(r)) {
			continue // closed meanwhile: start another
		}
		if !m.waitKeyed(r.Context(), hlsKeyWait) {
			// gohlslib would hold the request until the muxer gave up and
			// then answer a bare 500: say what is going on instead.
			m.end()
			retryAfter(w, hlsKeyRetry)
			fail(w, http.StatusServiceUnavailable, "waiting_for_keyframe", "waiting for the camera's first keyframe")
			return
		}
		sw := &sniffWriter{ResponseWriter: usage.CountWriter(w, s.d.Meter.Camera(s.d.Zone, "", camera), usage.EgressLiveHLS)}
		m.muxer.Handle(sw, r)
		m.end()
		if !sw.wrote {
			fail(w, http.StatusNotFound, "not_found", "no such file in the live playlist (it may have left the window)")
		}
		return
	}
	notLive(w, camera)
}

// muxerFor returns the camera's running muxer, starting one for its current
// stream when there is none or the one there belongs to an ended publish.
func (s *Service) muxerFor(camera string) (*hlsMuxer, error) {
	st := s.d.Hub.Get(camera)
	if st == nil {
		return nil, errNotLive
	}
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, errServiceClosed
		}
		m := s.muxers[camera]
		if m != nil && m.stream != st {
			s.mu.Unlock()
			m.close("a new publish replaced the stream")
			continue
		}
		if m == nil {
			var err error
			if m, err = s.startMuxer(camera, st); err != nil {
				s.mu.Unlock()
				if errors.Is(err, hub.ErrClosed) {
					return nil, errNotLive
				}
				return nil, err
			}
			s.muxers[camera] = m
			s.m.muxersStarted.Inc()
			m.log.Info("live HLS muxer started")
		}
		s.mu.Unlock()
		return m, nil
	}
}

// validHLSFile accepts the file names gohlslib makes: index.m3u8,
// <stream>_stream.m3u8 and <prefix>_<stream>_{init,segN,partN}.mp4.
func validHLSFile(f string) bool {
	if len(f) == 0 || len(f) > 100 || !(strings.HasSuffix(f, ".m3u8") || strings.HasSuffix(f, ".mp4")) {
		return false
	}
	for _, c := range f {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// viewerKey tells HLS players apart for the viewer count: the token (one
// per live session handed out) and the client address.
func viewerKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	h := sha256.Sum256([]byte(requestToken(r) + "|" + host))
	return hex.EncodeToString(h[:8])
}

// sniffWriter records whether the muxer answered at all: it writes nothing
// for a file it does not know.
type sniffWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *sniffWriter) WriteHeader(code int) {
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *sniffWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap exposes the underlying writer to http.ResponseController.
func (w *sniffWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
