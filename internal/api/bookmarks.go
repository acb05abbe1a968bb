package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/bookmarks"
	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/store"
)

// registerBookmarks adds the routes of cameras' bookmarks.
func (s *server) registerBookmarks(rt *httpapi.Router) {
	rt.Handle("POST /api/v1/cameras/{id}/bookmarks", s.createBookmark)
	rt.Handle("GET /api/v1/cameras/{id}/bookmarks", s.listBookmarks)
	rt.Handle("DELETE /api/v1/cameras/{id}/bookmarks/{bookmark}", s.deleteBookmark)
}

type bookmarkReq struct {
	Name  string     `json:"name"`
	Note  string     `json:"note"`
	Start time.Time  `json:"start"`
	End   *time.Time `json:"end"`
}

type bookmarkWire struct {
	ID        string     `json:"id"`
	CameraID  string     `json:"camera_id"`
	Name      string     `json:"name"`
	Note      string     `json:"note"`
	Start     time.Time  `json:"start"`
	End       *time.Time `json:"end,omitempty"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
}

func bookmarkOf(b store.Bookmark) bookmarkWire {
	out := bookmarkWire{ID: b.ID, CameraID: b.CameraID, Name: b.Name, Note: b.Note, Start: b.Start, CreatedBy: b.CreatedEmail, CreatedAt: b.CreatedAt}
	if !b.End.IsZero() {
		t := b.End
		out.End = &t
	}
	return out
}

// failBookmarks answers a bookmark service error.
func failBookmarks(w http.ResponseWriter, r *http.Request, err error) {
	var ie *bookmarks.InputError
	switch {
	case errors.As(err, &ie):
		httpapi.Fail(w, r, httpapi.BadRequest("%s", ie.Msg))
	case errors.Is(err, store.ErrLimit):
		httpapi.Fail(w, r, httpapi.Errorf(http.StatusConflict, "limit", "a camera has at most %d bookmarks", store.MaxBookmarksPerCam))
	default:
		httpapi.Fail(w, r, err)
	}
}

func (s *server) createBookmark(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	c, err := s.camera(r, rq, authz.PermPlayback)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if err := authz.WriteBookmark(rq.P, c); err != nil { // before the body: a viewer learns nothing from it
		httpapi.Fail(w, r, err)
		return
	}
	var req bookmarkReq
	if err := httpapi.Decode(w, r, &req); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	in := bookmarks.Input{Name: req.Name, Note: req.Note, Start: req.Start}
	if req.End != nil {
		in.End = *req.End
	}
	b, err := s.Bookmarks.Create(r.Context(), rq.P, c, in, rq.User.Email)
	if err != nil {
		failBookmarks(w, r, err)
		return
	}
	httpapi.Record(r, rq, "bookmark.create", "bookmark:"+b.ID, c.OrgID, c.ID, b.Start.Format(time.RFC3339)+" "+b.Name)
	httpapi.WriteJSON(w, http.StatusCreated, bookmarkOf(b))
}

func (s *server) listBookmarks(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	c, err := s.camera(r, rq, authz.PermPlayback)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	q := bookmarks.Query{Q: r.URL.Query().Get("q")}
	if q.From, err = parseTime(r, "from"); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if q.To, err = parseTime(r, "to"); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if q.To.IsZero() {
		q.To = time.Now().Add(time.Hour)
	}
	if q.From.IsZero() {
		q.From = q.To.Add(-bookmarks.MaxRange)
	}
	if v := r.URL.Query().Get("limit"); v != "" {
		if q.Limit, err = strconv.Atoi(v); err != nil || q.Limit < 1 {
			httpapi.Fail(w, r, httpapi.BadRequest("limit must be 1..%d", bookmarks.MaxList))
			return
		}
	}
	list, err := s.Bookmarks.List(r.Context(), rq.P, c, q)
	if err != nil {
		failBookmarks(w, r, err)
		return
	}
	out := make([]bookmarkWire, 0, len(list))
	for _, b := range list {
		out = append(out, bookmarkOf(b))
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"bookmarks": out})
}

func (s *server) deleteBookmark(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	c, err := s.camera(r, rq, authz.PermPlayback)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	id, err := httpapi.PathID(r, "bookmark")
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if err := s.Bookmarks.Delete(r.Context(), rq.P, c, id); err != nil {
		failBookmarks(w, r, err)
		return
	}
	httpapi.Record(r, rq, "bookmark.delete", "bookmark:"+id, c.OrgID, c.ID, "")
	w.WriteHeader(http.StatusNoContent)
}
