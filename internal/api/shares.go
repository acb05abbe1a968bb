package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/shares"
)

// registerShares adds the routes of share links: making, listing and
// revoking them (members), and opening one (anybody holding its token).
func (s *server) registerShares(rt *httpapi.Router) {
	rt.Handle("POST /api/v1/cameras/{id}/shares", s.createShare)
	rt.Handle("GET /api/v1/shares", s.listShares)
	rt.Handle("DELETE /api/v1/shares/{id}", s.revokeShare)
	rt.HandlePublic("POST /api/v1/shares/open", http.HandlerFunc(s.openShare))
}

// shareReq is the body of POST /cameras/{id}/shares.
type shareReq struct {
	From          *time.Time `json:"from"`
	To            *time.Time `json:"to"`
	Live          bool       `json:"live"`
	ExpiresIn     *int64     `json:"expires_in"`
	Password      string     `json:"password"`
	AllowDownload bool       `json:"allow_download"`
	MaxViews      int        `json:"max_views"`
	Note          string     `json:"note"`
}

// shareWire is a link as members see it.
type shareWire struct {
	ID            string     `json:"id"`
	OrgID         string     `json:"org_id"`
	CameraID      string     `json:"camera_id"`
	CameraName    string     `json:"camera_name"`
	Live          bool       `json:"live"`
	From          *time.Time `json:"from,omitempty"`
	To            *time.Time `json:"to,omitempty"`
	HasPassword   bool       `json:"has_password"`
	AllowDownload bool       `json:"allow_download"`
	MaxViews      int        `json:"max_views"`
	Views         int        `json:"views"`
	Note          string     `json:"note"`
	CreatedBy     string     `json:"created_by"`
	SharedBy      string     `json:"shared_by"`
	CreatedAt     time.Time  `json:"created_at"`
	ExpiresAt     time.Time  `json:"expires_at"`
	RevokedAt     *time.Time `json:"revoked_at,omitempty"`
	State         string     `json:"state"`
}

func toShareWire(l shares.Link) shareWire {
	w := shareWire{ID: l.ID, OrgID: l.OrgID, CameraID: l.CameraID, CameraName: l.CameraName, Live: l.Live,
		HasPassword: l.HasPassword, AllowDownload: l.AllowDownload, MaxViews: l.MaxViews, Views: l.Views, Note: l.Note,
		CreatedBy: l.CreatedBy, SharedBy: l.SharedBy, CreatedAt: l.CreatedAt, ExpiresAt: l.Expires, State: l.State}
	if !l.Live {
		w.From, w.To = &l.From, &l.To
	}
	if !l.Revoked.IsZero() {
		w.RevokedAt = &l.Revoked
	}
	return w
}

// createShare answers POST /api/v1/cameras/{id}/shares: 201 {id,url,
// expires_at,share}; the URL carries the token and is shown only now.
func (s *server) createShare(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	var req shareReq
	if err := httpapi.Decode(w, r, &req); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	cam, err := httpapi.PathCamera(r, rq, s.Cameras, shares.Perm(req.Live))
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	l, token, err := s.Shares.Create(r.Context(), rq, cam, shares.Spec{From: req.From, To: req.To, Live: req.Live,
		ExpiresIn: req.ExpiresIn, Password: req.Password, AllowDownload: req.AllowDownload, MaxViews: req.MaxViews, Note: req.Note})
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	what := "live"
	if !l.Live {
		what = l.From.Format(time.RFC3339) + ".." + l.To.Format(time.RFC3339)
	}
	httpapi.Record(r, rq, "share.create", "share:"+l.ID, l.OrgID, l.CameraID, fmt.Sprintf("%s; expires %s; password %t; download %t; max_views %d",
		what, l.Expires.Format(time.RFC3339), l.HasPassword, l.AllowDownload, l.MaxViews))
	url := httpapi.RequestBase(r, s.PublicHost) + "/s/#" + token
	httpapi.WriteJSON(w, http.StatusCreated, map[string]any{"id": l.ID, "url": url, "expires_at": l.Expires, "share": toShareWire(l)})
}

// listShares answers GET /api/v1/shares?org&camera: the links of the
// caller's organisations that the caller may see.
func (s *server) listShares(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	q := r.URL.Query()
	f := shares.Filter{OrgID: q.Get("org"), CameraID: q.Get("camera")}
	for _, v := range []string{f.OrgID, f.CameraID} {
		if v != "" && !httpapi.IsID(v) {
			httpapi.Fail(w, r, httpapi.BadRequest("org and camera must be ids (32 hex characters)"))
			return
		}
	}
	ls, err := s.Shares.List(r.Context(), rq.P, f)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	out := make([]shareWire, 0, len(ls))
	for _, l := range ls {
		out = append(out, toShareWire(l))
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"shares": out})
}

// revokeShare answers DELETE /api/v1/shares/{id}: 204, the link refused
// to its holders from their next request.
func (s *server) revokeShare(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	l, err := s.Shares.Revoke(r.Context(), rq.P, rq.User.Email, id)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.Record(r, rq, "share.revoke", "share:"+l.ID, l.OrgID, l.CameraID, "")
	w.WriteHeader(http.StatusNoContent)
}

// openReq is the body of POST /api/v1/shares/open.
type openReq struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

// openedWire is what a link's holder is shown.
type openedWire struct {
	CameraName     string     `json:"camera_name"`
	Live           bool       `json:"live"`
	From           *time.Time `json:"from,omitempty"`
	To             *time.Time `json:"to,omitempty"`
	AllowDownload  bool       `json:"allow_download"`
	Note           string     `json:"note"`
	SharedBy       string     `json:"shared_by"`
	ExpiresAt      time.Time  `json:"expires_at"`
	HLSURL         string     `json:"hls_url"`
	WHEPURL        string     `json:"whep_url,omitempty"`
	ClipURL        string     `json:"clip_url,omitempty"`
	MediaExpiresAt time.Time  `json:"media_expires_at"`
}

// openShare answers POST /api/v1/shares/open {token,password?}: what the
// link is and its media URLs, for anybody holding the token (no account).
func (s *server) openShare(w http.ResponseWriter, r *http.Request) {
	var req openReq
	if err := httpapi.Decode(w, r, &req); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	o, err := s.Shares.Open(r.Context(), req.Token, req.Password, httpapi.ClientAddr(r), httpapi.RequestBase(r, s.PublicHost))
	if err != nil {
		var e *httpapi.Error
		if errors.As(err, &e) && e.Status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "60")
		}
		httpapi.Fail(w, r, err)
		return
	}
	out := openedWire{CameraName: o.Link.CameraName, Live: o.Link.Live, AllowDownload: o.Link.AllowDownload, Note: o.Link.Note,
		SharedBy: o.Link.SharedBy, ExpiresAt: o.Link.Expires, HLSURL: o.HLSURL, WHEPURL: o.WHEPURL, ClipURL: o.ClipURL,
		MediaExpiresAt: o.MediaExpires}
	if !o.Link.Live {
		out.From, out.To = &o.Link.From, &o.Link.To
	}
	w.Header().Set("Cache-Control", "no-store")
	httpapi.WriteJSON(w, http.StatusOK, out)
}
