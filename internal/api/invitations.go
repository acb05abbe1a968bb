package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/orgs"
	"github.com/camcloud/camcloud/internal/store"
)

// invitationWire is an invitation as the API answers it. Who invited is
// not shown to the invitee (a user id of another organisation).
type invitationWire struct {
	ID        string    `json:"id"`
	OrgID     string    `json:"org_id"`
	OrgName   string    `json:"org_name,omitempty"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

func invitationJSON(inv store.Invitation) invitationWire {
	return invitationWire{ID: inv.ID, OrgID: inv.OrgID, Email: inv.Email, Role: inv.Role, CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt}
}

// listInvitations answers the caller's pending invitations, with the
// names of the organisations, so that they know what they would join.
func (s *server) listInvitations(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	list, err := s.Orgs.Invitations(r.Context(), rq.User)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	out := make([]invitationWire, 0, len(list))
	for _, inv := range list {
		iw := invitationJSON(inv)
		iw.OrgName = inv.OrgName
		out = append(out, iw)
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"invitations": out})
}

func (s *server) acceptInvitation(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	m, err := s.Orgs.Accept(r.Context(), rq.User, id)
	if errors.Is(err, orgs.ErrAlreadyMember) {
		err = httpapi.Errorf(http.StatusConflict, "conflict", "%s", err.Error())
	}
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.Record(r, rq, "member.accept", "user:"+m.UserID, m.OrgID, "", m.Role)
	httpapi.WriteJSON(w, http.StatusOK, memberJSON(m))
}

func (s *server) declineInvitation(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	inv, err := s.Orgs.Decline(r.Context(), rq.User, id)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.Record(r, rq, "member.decline", "invitation:"+id, inv.OrgID, "", inv.Role)
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) listOrgInvitations(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	orgID, err := orgFor(r, rq, authz.OrgManageMembers)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	list, err := s.Orgs.OrgInvitations(r.Context(), rq.P, orgID)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"invitations": httpapi.NonNil(listJSON(list, invitationJSON))})
}

func (s *server) revokeInvitation(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	orgID, err := orgFor(r, rq, authz.OrgManageMembers)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if err := s.Orgs.Revoke(r.Context(), rq.P, orgID, id); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.Record(r, rq, "member.revoke_invitation", "invitation:"+id, orgID, "", "")
	w.WriteHeader(http.StatusNoContent)
}
