package backfill

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/sites"
)

// Register adds the routes edge agents backfill the cloud through (api
// nodes), authenticated with the site credential like every
// /api/v1/agent/ route: public to the Router, each checks the credential
// before it reads a body.
func (s *Service) Register(rt *httpapi.Router) {
	rt.HandlePublic("POST /api/v1/agent/cameras/{id}/uploads", http.HandlerFunc(s.agentBeginUpload))
	rt.HandlePublic("PATCH /api/v1/agent/uploads/{id}", http.HandlerFunc(s.agentPatchUpload))
	rt.HandlePublic("HEAD /api/v1/agent/uploads/{id}", http.HandlerFunc(s.agentHeadUpload))
	rt.HandlePublic("POST /api/v1/agent/cameras/{id}/lost", http.HandlerFunc(s.agentLost))
}

// Headers and content type of the chunked upload (as tus names them).
const (
	hdrUploadOffset = "Upload-Offset"
	hdrUploadLength = "Upload-Length"
	chunkType       = "application/offset+octet-stream"
)

// agentCall authenticates an agent's request (401 before its body is
// read) and reads the path's {id}.
func (s *Service) agentCall(w http.ResponseWriter, r *http.Request) (cred, id string, a *authz.Agent, ok bool) {
	cred, found := httpapi.BearerToken(r)
	err := sites.ErrBadCredential
	if found {
		a, err = s.c.Sites.Authenticate(r.Context(), cred)
	}
	if err == nil {
		id, err = httpapi.PathID(r, "id")
	}
	if err != nil {
		failBackfill(w, r, err)
		return "", "", nil, false
	}
	return cred, id, a, true
}

// failBackfill answers the backfill service's refusals.
func failBackfill(w http.ResponseWriter, r *http.Request, err error) {
	var ie *InputError
	var oe *OffsetError
	var se *SegmentError
	var sie *sites.InputError
	switch {
	case errors.As(err, &ie):
		httpapi.Fail(w, r, httpapi.BadRequest("%s", ie.Msg))
	case errors.As(err, &oe):
		w.Header().Set(hdrUploadOffset, strconv.FormatInt(oe.Offset, 10))
		httpapi.Fail(w, r, httpapi.Errorf(http.StatusConflict, "offset_mismatch",
			"the upload's acknowledged offset is %d: send the chunk that starts there", oe.Offset))
	case errors.As(err, &se):
		httpapi.Fail(w, r, httpapi.Errorf(http.StatusUnprocessableEntity, "invalid_segment", "%s; nothing was stored", se.Msg))
	case errors.Is(err, ErrTooLarge):
		httpapi.Fail(w, r, httpapi.Errorf(http.StatusRequestEntityTooLarge, "too_large", "%s", err.Error()))
	case errors.Is(err, ErrNotMissing):
		httpapi.Fail(w, r, httpapi.Errorf(http.StatusConflict, "not_missing", "%s", err.Error()))
	case errors.As(err, &sie):
		httpapi.Fail(w, r, httpapi.BadRequest("%s", sie.Msg))
	case errors.Is(err, sites.ErrBadCredential):
		httpapi.Fail(w, r, httpapi.Errorf(http.StatusUnauthorized, "unauthorized", "%s", err.Error()))
	default:
		httpapi.Fail(w, r, err)
	}
}

// uploadReq announces a segment.
type uploadReq struct {
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Size   int64     `json:"size"`
	SHA256 string    `json:"sha256"`
	Init   []byte    `json:"init"`
}

func (s *Service) agentBeginUpload(w http.ResponseWriter, r *http.Request) {
	cred, id, _, ok := s.agentCall(w, r)
	if !ok {
		return
	}
	var req uploadReq
	if err := httpapi.Decode(w, r, &req); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	ans, err := s.Begin(r.Context(), cred, id, Request(req))
	if err != nil {
		failBackfill(w, r, err)
		return
	}
	if ans.Stored {
		httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "stored"})
		return
	}
	u := ans.Upload
	httpapi.WriteJSON(w, http.StatusCreated, map[string]any{"status": "pending", "upload_id": u.ID, "offset": u.Offset, "size": u.Size,
		"chunk_size": s.c.ChunkSize, "expires_at": u.Expires})
}

func (s *Service) agentPatchUpload(w http.ResponseWriter, r *http.Request) {
	cred, id, a, ok := s.agentCall(w, r)
	if !ok {
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != chunkType {
		httpapi.Fail(w, r, httpapi.Errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Type must be %s", chunkType))
		return
	}
	off, err := strconv.ParseInt(r.Header.Get(hdrUploadOffset), 10, 64)
	if err != nil || off < 0 {
		httpapi.Fail(w, r, httpapi.BadRequest("the %s header must be a byte offset", hdrUploadOffset))
		return
	}
	if r.ContentLength > 0 && r.ContentLength <= s.c.ChunkSize {
		// A capped uplink may need longer than http_body_timeout.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(ChunkDeadline(r.ContentLength)))
	}
	body := http.MaxBytesReader(w, r.Body, s.c.ChunkSize)
	p, err := s.Patch(r.Context(), cred, id, off, body, r.ContentLength)
	if err != nil {
		failBackfill(w, r, err)
		return
	}
	w.Header().Set(hdrUploadOffset, strconv.FormatInt(p.Offset, 10))
	if !p.Stored {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	u := p.Upload
	httpapi.Record(r, httpapi.AgentRequest(r, a.SiteID), "segment.backfill", "upload:"+id, a.OrgID, u.CameraID,
		fmt.Sprintf("start=%s end=%s bytes=%d", u.Start.Format(time.RFC3339Nano), u.End.Format(time.RFC3339Nano), u.Size))
	httpapi.WriteJSON(w, http.StatusCreated, map[string]string{"status": "stored"})
}

func (s *Service) agentHeadUpload(w http.ResponseWriter, r *http.Request) {
	cred, id, _, ok := s.agentCall(w, r)
	if !ok {
		return
	}
	u, err := s.Head(r.Context(), cred, id)
	if err != nil {
		failBackfill(w, r, err)
		return
	}
	w.Header().Set(hdrUploadOffset, strconv.FormatInt(u.Offset, 10))
	w.Header().Set(hdrUploadLength, strconv.FormatInt(u.Size, 10))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// lostReq is an agent's report of video its ring buffer dropped.
type lostReq struct {
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Reason   string    `json:"reason"`
	Segments int64     `json:"segments"`
	Bytes    int64     `json:"bytes"`
}

func (s *Service) agentLost(w http.ResponseWriter, r *http.Request) {
	cred, id, a, ok := s.agentCall(w, r)
	if !ok {
		return
	}
	var req lostReq
	if err := httpapi.Decode(w, r, &req); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	ev, created, err := s.Lost(r.Context(), cred, id, Loss(req))
	if err != nil {
		failBackfill(w, r, err)
		return
	}
	status := "already_recorded"
	if created {
		status = "recorded"
		httpapi.Record(r, httpapi.AgentRequest(r, a.SiteID), "segment.lost", "camera:"+id, a.OrgID, id,
			fmt.Sprintf("start=%s end=%s segments=%d bytes=%d", ev.Start.Format(time.RFC3339Nano), ev.End.Format(time.RFC3339Nano), req.Segments, req.Bytes))
	}
	httpapi.WriteJSON(w, http.StatusCreated, map[string]string{"status": status, "event_id": ev.ID})
}
