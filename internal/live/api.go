package live

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/cameras"
	"github.com/camcloud/camcloud/internal/httpapi"
)

// liveURLs is the answer of POST /api/v1/cameras/{id}/live.
type liveURLs struct {
	HLSURL    string    `json:"hls_url"`
	WHEPURL   string    `json:"whep_url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// RegisterAPI adds POST /api/v1/cameras/{id}/live to an api node's
// router: cams finds the camera for the caller, publicHost (may be empty)
// names this node in URLs when it holds the camera itself. The answer
// carries URLs on the camera server that holds the camera, signed for the
// caller; 409 "offline" when no server holds it.
func (s *Service) RegisterAPI(rt *httpapi.Router, cams *cameras.Service, publicHost string) {
	v := newViewings(rt.RecordEntry, s.d.Now, s.d.ViewingIdle)
	s.mu.Lock()
	s.viewings = append(s.viewings, v)
	s.mu.Unlock()
	rt.Handle("POST /api/v1/cameras/{id}/live", func(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
		s.apiLive(w, r, rq, cams, publicHost, v)
	})
}

// viewerOf names the viewer rq is for the coalescing of media.live: its
// login session, or its API key.
func viewerOf(rq *httpapi.Request) string {
	switch {
	case rq.APIKey != nil:
		return "apikey:" + rq.APIKey.ID
	case rq.Session.TokenHash != "":
		return "session:" + rq.Session.TokenHash
	}
	return ""
}

func (s *Service) apiLive(w http.ResponseWriter, r *http.Request, rq *httpapi.Request, cams *cameras.Service, publicHost string, v *viewings) {
	cam, err := httpapi.PathCamera(r, rq, cams, "live")
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if s.d.Locate == nil {
		httpapi.Fail(w, r, errors.New("live: no Locate function configured"))
		return
	}
	base, err := s.d.Locate(r.Context(), cam)
	if errors.Is(err, ErrOffline) {
		httpapi.Fail(w, r, httpapi.Errorf(http.StatusConflict, "offline", "camera %s is not streaming right now", cam.ID))
		return
	}
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if base == "" {
		base = httpapi.RequestBase(r, publicHost)
	}
	base = strings.TrimRight(base, "/")
	exp := s.d.Now().Add(s.d.TokenTTL).UTC().Truncate(time.Second)
	tok, err := s.d.Signer.Sign(auth.MediaClaims{CameraID: cam.ID, Perm: "live", Subject: rq.User.ID, Expires: exp})
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	q := "?token=" + url.QueryEscape(tok)
	path := base + "/live/v1/" + url.PathEscape(cam.ID)
	v.handout(r.Context(), viewerOf(rq), httpapi.Entry(rq, "media.live", "camera:"+cam.ID, cam.OrgID, cam.ID, ""))
	httpapi.WriteJSON(w, http.StatusOK, liveURLs{HLSURL: path + "/index.m3u8" + q, WHEPURL: path + "/whep" + q, ExpiresAt: exp})
}
