package api

import (
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"time"

	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/evidence"
	"github.com/camcloud/camcloud/internal/exports"
	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/store"
)

// registerExports adds the routes of evidence exports and of the
// evidence public key.
func (s *server) registerExports(rt *httpapi.Router) {
	rt.Handle("POST /api/v1/cameras/{id}/exports", s.createExport)
	rt.Handle("GET /api/v1/cameras/{id}/exports", s.listExports)
	rt.Handle("GET /api/v1/exports/{id}", s.getExport)
	rt.Handle("GET /api/v1/exports/{id}/download", s.downloadExport)
	rt.HandlePublic("GET /api/v1/evidence/public-key", http.HandlerFunc(s.publicKey))
}

type exportReq struct {
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Evidence  bool      `json:"evidence"`
	Watermark bool      `json:"watermark"`
}

// exportWire is a job as answered.
type exportWire struct {
	ID        string     `json:"id"`
	CameraID  string     `json:"camera_id"`
	OrgID     string     `json:"org_id"`
	From      time.Time  `json:"from"`
	To        time.Time  `json:"to"`
	Evidence  bool       `json:"evidence"`
	Watermark bool       `json:"watermark"`
	State     string     `json:"state"`
	Progress  float64    `json:"progress"`
	Error     string     `json:"error,omitempty"`
	AuditSeq  int64      `json:"audit_seq"`
	Size      int64      `json:"size,omitempty"`
	SHA256    string     `json:"sha256,omitempty"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// DownloadURL is set once the job is ready.
	DownloadURL string `json:"download_url,omitempty"`
}

func exportOf(e store.Export) exportWire {
	out := exportWire{ID: e.ID, CameraID: e.CameraID, OrgID: e.OrgID, From: e.From, To: e.To, Evidence: e.Evidence, Watermark: e.Watermark,
		State: e.State, Progress: float64(e.Progress) / 1000, Error: e.Error, AuditSeq: e.AuditSeq, Size: e.Size, SHA256: e.SHA256,
		CreatedBy: e.CreatedEmail, CreatedAt: e.CreatedAt}
	if !e.ExpiresAt.IsZero() {
		t := e.ExpiresAt
		out.ExpiresAt = &t
	}
	if e.State == store.ExportReady {
		out.DownloadURL = "/api/v1/exports/" + e.ID + "/download"
	}
	return out
}

// failExports answers an export service error.
func failExports(w http.ResponseWriter, r *http.Request, err error) {
	var ie *exports.InputError
	switch {
	case errors.As(err, &ie):
		httpapi.Fail(w, r, httpapi.Errorf(http.StatusBadRequest, ie.Code, "%s", ie.Msg))
	case errors.Is(err, exports.ErrNoFFmpeg):
		httpapi.Fail(w, r, httpapi.Errorf(http.StatusNotImplemented, "ffmpeg_missing", "%s", err.Error()))
	case errors.Is(err, exports.ErrNotReady):
		httpapi.Fail(w, r, httpapi.Errorf(http.StatusConflict, "not_ready", "%s", err.Error()))
	case errors.Is(err, store.ErrLimit):
		w.Header().Set("Retry-After", "30")
		httpapi.Fail(w, r, httpapi.Errorf(http.StatusTooManyRequests, "too_many_exports", "the organisation has as many exports going as it may: wait for one to finish"))
	default:
		httpapi.Fail(w, r, err)
	}
}

func (s *server) createExport(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	c, err := s.camera(r, rq, authz.PermExport)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	var req exportReq
	if err := httpapi.Decode(w, r, &req); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	a := exports.Actor{P: rq.P, Email: rq.User.Email, Address: rq.Addr}
	if rq.P != nil && rq.P.ActingOrgID != "" {
		a.ActorAs = rq.P.ActingRole + "@" + rq.P.ActingOrgID
	}
	e, err := s.Exports.Create(r.Context(), a, c, exports.Request{From: req.From, To: req.To, Evidence: req.Evidence, Watermark: req.Watermark})
	if err != nil {
		failExports(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/exports/"+e.ID)
	httpapi.WriteJSON(w, http.StatusAccepted, exportOf(e))
}

func (s *server) listExports(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	c, err := s.camera(r, rq, authz.PermExport)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	list, err := s.Exports.List(r.Context(), c)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	out := make([]exportWire, 0, len(list))
	for _, e := range list {
		out = append(out, exportOf(e))
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"exports": out, "watermark_available": s.Exports.Watermarks()})
}

// pathExport is the {id} job, if rq may export its camera.
func (s *server) pathExport(r *http.Request, rq *httpapi.Request) (store.Export, store.Camera, error) {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return store.Export{}, store.Camera{}, err
	}
	return s.Exports.Get(r.Context(), rq.P, id)
}

func (s *server) getExport(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	e, _, err := s.pathExport(r, rq)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, exportOf(e))
}

// downloadExport serves a ready package from the zone's object store,
// with Range (a broken download resumes where it stopped).
func (s *server) downloadExport(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	e, c, err := s.pathExport(r, rq)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	st, err := s.Exports.Open(e)
	if err != nil {
		failExports(w, r, err)
		return
	}
	if r.Header.Get("Range") == "" || r.Header.Get("If-Range") != "" {
		httpapi.Record(r, rq, "export.download", "export:"+e.ID, c.OrgID, c.ID, fmt.Sprintf("%d bytes", e.Size))
	}
	name, ctype := "export-"+e.ID+".mp4", "video/mp4"
	if e.Evidence {
		name, ctype = "evidence-"+e.ID+".zip", "application/zip"
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("Cache-Control", "private, no-store")
	h.Set("ETag", `"`+e.SHA256+`"`)
	h.Set("X-Camcloud-SHA256", e.SHA256)
	rs := blob.NewSeeker(r.Context(), st, e.ObjectKey, e.Size)
	defer func() { _ = rs.Close() }()
	http.ServeContent(w, r, "", e.UpdatedAt, rs)
}

// publicKey answers the deployment's evidence public key: anyone may
// fetch it to verify a package.
func (s *server) publicKey(w http.ResponseWriter, r *http.Request) {
	k := s.Exports.PublicKey()
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"algorithm": "Ed25519", "key_id": k.ID,
		"public_key": base64.StdEncoding.EncodeToString(k.Public), "pem": evidence.PublicPEM(k.Public)})
}
