package api

import (
	"errors"
	"net/http"

	"github.com/camcloud/camcloud/internal/account"
	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/orgs"
)

func (s *server) createOrg(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	var req struct {
		Name string `json:"name"`
	}
	if err := httpapi.Decode(w, r, &req); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	name, err := orgs.ValidateName(req.Name)
	if err != nil {
		httpapi.Fail(w, r, httpapi.BadRequest("%s", err.Error()))
		return
	}
	o, err := s.Orgs.Create(r.Context(), rq.P, name)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.Record(r, rq, "org.create", "org:"+o.ID, o.ID, "", o.Name)
	httpapi.WriteJSON(w, http.StatusCreated, orgJSON(o))
}

func (s *server) listOrgs(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	list, err := s.Orgs.List(r.Context(), rq.P)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"orgs": listJSON(list, orgJSON)})
}

// orgFor checks the org path value and that rq may do action in it.
func orgFor(r *http.Request, rq *httpapi.Request, action string) (string, error) {
	id, err := httpapi.PathID(r, "org")
	if err != nil {
		return "", err
	}
	if err := authz.Org(rq.P, id, action); err != nil {
		return "", err
	}
	return id, nil
}

type memberReq struct {
	Email    string `json:"email"`
	Password string `json:"password,omitempty"`
	Role     string `json:"role"`
}

func (s *server) addMember(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	orgID, err := orgFor(r, rq, authz.OrgManageMembers)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	var req memberReq
	if err := httpapi.Decode(w, r, &req); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if !authz.ValidRole(req.Role) {
		httpapi.Fail(w, r, httpapi.BadRequest("role must be owner, admin, operator or viewer"))
		return
	}
	email, err := account.NormalizeEmail(req.Email)
	if err != nil {
		httpapi.Fail(w, r, httpapi.BadRequest("%s", err.Error()))
		return
	}
	m, inv, created, err := s.Orgs.AddMember(r.Context(), rq.P, orgID, email, req.Password, req.Role)
	if created != nil {
		httpapi.Record(r, rq, "user.create", "user:"+created.ID, orgID, "", email)
	}
	var ae *orgs.AccountError
	switch {
	case errors.Is(err, orgs.ErrNeedPassword), errors.As(err, &ae):
		err = httpapi.BadRequest("%s", err.Error())
	case errors.Is(err, orgs.ErrEmailTaken), errors.Is(err, orgs.ErrAccountExists), errors.Is(err, orgs.ErrAlreadyMember),
		errors.Is(err, orgs.ErrTooManyInvitations):
		err = httpapi.Errorf(http.StatusConflict, "conflict", "%s", err.Error())
	}
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if inv != nil {
		httpapi.Record(r, rq, "member.invite", "invitation:"+inv.ID, orgID, "", inv.Role)
		httpapi.WriteJSON(w, http.StatusAccepted, map[string]any{"invitation": invitationJSON(*inv)})
		return
	}
	httpapi.Record(r, rq, "member.add", "user:"+m.UserID, orgID, "", req.Role)
	httpapi.WriteJSON(w, http.StatusCreated, memberJSON(m))
}

func (s *server) listMembers(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	orgID, err := orgFor(r, rq, authz.OrgView)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	ms, err := s.Orgs.Members(r.Context(), orgID)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"members": httpapi.NonNil(listJSON(ms, memberJSON))})
}

func (s *server) getMember(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	orgID, err := orgFor(r, rq, authz.OrgView)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	uid, err := httpapi.PathID(r, "user")
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	m, err := s.Orgs.Member(r.Context(), orgID, uid)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, memberJSON(m))
}

func (s *server) patchMember(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	orgID, err := orgFor(r, rq, authz.OrgManageMembers)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	var req struct {
		Role string `json:"role"`
	}
	if err := httpapi.Decode(w, r, &req); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if !authz.ValidRole(req.Role) {
		httpapi.Fail(w, r, httpapi.BadRequest("role must be owner, admin, operator or viewer"))
		return
	}
	s.changeRole(w, r, rq, orgID, req.Role)
}

func (s *server) deleteMember(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	orgID, err := orgFor(r, rq, authz.OrgManageMembers)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	s.changeRole(w, r, rq, orgID, "")
}

// changeRole gives the {user} member of orgID role, or removes them for
// "": the service checks and writes in one transaction.
func (s *server) changeRole(w http.ResponseWriter, r *http.Request, rq *httpapi.Request, orgID, role string) {
	uid, err := httpapi.PathID(r, "user")
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	m, err := s.Orgs.SetRole(r.Context(), rq.P, orgID, uid, role)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if role == "" {
		httpapi.Record(r, rq, "member.remove", "user:"+m.UserID, orgID, "", m.Role)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	httpapi.Record(r, rq, "member.role", "user:"+m.UserID, orgID, "", m.Role+"->"+role)
	m.Role = role
	httpapi.WriteJSON(w, http.StatusOK, memberJSON(m))
}
