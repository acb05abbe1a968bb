package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/holds"
	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/store"
)

// registerHolds adds the routes of a camera's legal holds.
func (s *server) registerHolds(rt *httpapi.Router) {
	rt.Handle("POST /api/v1/cameras/{id}/holds", s.placeHold)
	rt.Handle("GET /api/v1/cameras/{id}/holds", s.listHolds)
	rt.Handle("DELETE /api/v1/cameras/{id}/holds/{hold}", s.releaseHold)
}

type holdWire struct {
	ID             string    `json:"id"`
	CameraID       string    `json:"camera_id"`
	OrgID          string    `json:"org_id"`
	From           time.Time `json:"from"`
	To             time.Time `json:"to"`
	Reason         string    `json:"reason"`
	CreatedBy      string    `json:"created_by"`
	CreatedByEmail string    `json:"created_by_email,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
}

func holdJSON(h store.Hold) holdWire {
	return holdWire{ID: h.ID, CameraID: h.CameraID, OrgID: h.OrgID, From: h.From, To: h.To, Reason: h.Reason,
		CreatedBy: h.CreatedBy, CreatedByEmail: h.CreatedByEmail, CreatedAt: h.CreatedAt}
}

// holdDetail is a hold as the audit log names it.
func holdDetail(h store.Hold) string {
	return h.From.Format(time.RFC3339) + " to " + h.To.Format(time.RFC3339) + ": " + h.Reason
}

// failHolds answers the hold service's refusals: bad input 400, the
// camera's limit 409, the rest as httpapi maps them.
func failHolds(w http.ResponseWriter, r *http.Request, err error) {
	var ie *holds.InputError
	switch {
	case errors.As(err, &ie):
		err = httpapi.BadRequest("%s", ie.Msg)
	case errors.Is(err, holds.ErrTooMany):
		err = httpapi.Errorf(http.StatusConflict, "limit", "%s", err.Error())
	}
	httpapi.Fail(w, r, err)
}

func (s *server) placeHold(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	c, err := s.camera(r, rq, authz.PermView)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	var req struct {
		From   *time.Time `json:"from"`
		To     *time.Time `json:"to"`
		Reason string     `json:"reason"`
	}
	if err := httpapi.Decode(w, r, &req); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	var sp holds.Spec
	if req.From != nil && req.To != nil {
		sp.From, sp.To = *req.From, *req.To
	}
	sp.Reason = req.Reason
	h, err := s.Holds.Place(r.Context(), rq.P, c, sp)
	if err != nil {
		failHolds(w, r, err)
		return
	}
	httpapi.Record(r, rq, "hold.place", "hold:"+h.ID, c.OrgID, c.ID, holdDetail(h))
	httpapi.WriteJSON(w, http.StatusCreated, holdJSON(h))
}

func (s *server) listHolds(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	c, err := s.camera(r, rq, authz.PermView)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	list, err := s.Holds.List(r.Context(), rq.P, c)
	if err != nil {
		failHolds(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"holds": httpapi.NonNil(listJSON(list, holdJSON))})
}

func (s *server) releaseHold(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	c, err := s.camera(r, rq, authz.PermView)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	id, err := httpapi.PathID(r, "hold")
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	h, err := s.Holds.Release(r.Context(), rq.P, c, id)
	if err != nil {
		failHolds(w, r, err)
		return
	}
	httpapi.Record(r, rq, "hold.release", "hold:"+h.ID, c.OrgID, c.ID, holdDetail(h))
	w.WriteHeader(http.StatusNoContent)
}

// heldCamera answers the refusal to delete a camera with holds: 409
// naming them.
func heldCamera(err error) error {
	var he *store.HeldError
	if errors.As(err, &he) {
		return httpapi.Errorf(http.StatusConflict, "held", "%s", he.Error())
	}
	return err
}
