package api

import (
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/camcloud/camcloud/internal/account"
	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/store"
)

func (s *Server) createOrg(w http.ResponseWriter, r *http.Request, rq *Request) {
	var req struct {
		Name string `json:"name"`
	}
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	name := strings.TrimSpace(req.Name)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		s.fail(w, r, badRequest("name must be 1 to 100 characters"))
		return
	}
	if err := authz.CreateOrg(rq.P); err != nil {
		s.fail(w, r, err)
		return
	}
	o := store.Org{ID: account.NewID(), Name: name, CreatedAt: time.Now().UTC()}
	if err := s.Dir.CreateOrg(r.Context(), o); err != nil {
		s.fail(w, r, err)
		return
	}
	// The creator owns the new organisation.
	if err := s.Dir.PutMembership(r.Context(), store.Membership{OrgID: o.ID, UserID: rq.User.ID, Role: store.RoleOwner}); err != nil {
		s.fail(w, r, err)
		return
	}
	s.record(r, rq, "org.create", "org:"+o.ID, o.ID, "", o.Name)
	writeJSON(w, http.StatusCreated, o)
}

func (s *Server) listOrgs(w http.ResponseWriter, r *http.Request, rq *Request) {
	out := []store.Org{}
	for _, id := range rq.P.Orgs() {
		o, err := s.Dir.GetOrg(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out = append(out, o)
	}
	writeJSON(w, http.StatusOK, map[string]any{"orgs": out})
}

// orgFor checks the org path value and that rq may do action in it.
func (s *Server) orgFor(r *http.Request, rq *Request, action string) (string, error) {
	id, err := pathID(r, "org")
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

func (s *Server) addMember(w http.ResponseWriter, r *http.Request, rq *Request) {
	orgID, err := s.orgFor(r, rq, authz.OrgManageMembers)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req memberReq
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if !authz.ValidRole(req.Role) {
		s.fail(w, r, badRequest("role must be owner, admin, operator or viewer"))
		return
	}
	email, err := account.NormalizeEmail(req.Email)
	if err != nil {
		s.fail(w, r, badRequest("%s", err.Error()))
		return
	}
	u, err := s.Dir.GetUserByEmail(r.Context(), email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if req.Password == "" {
			s.fail(w, r, badRequest("no account has this email: give a password to create it"))
			return
		}
		u, err = s.Accounts.CreateUser(r.Context(), email, req.Password, false)
		if errors.Is(err, store.ErrConflict) {
			s.fail(w, r, errf(http.StatusConflict, "conflict", "an account with this email already exists"))
			return
		}
		if err != nil {
			s.fail(w, r, badRequest("%s", err.Error()))
			return
		}
		s.record(r, rq, "user.create", "user:"+u.ID, orgID, "", email)
	case err != nil:
		s.fail(w, r, err)
		return
	case req.Password != "":
		s.fail(w, r, errf(http.StatusConflict, "conflict", "an account with this email already exists: add it without a password"))
		return
	}
	current := ""
	if ms, err := s.Dir.ListMemberships(r.Context(), u.ID); err == nil {
		for _, m := range ms {
			if m.OrgID == orgID {
				current = m.Role
			}
		}
	}
	if current != "" {
		s.fail(w, r, errf(http.StatusConflict, "conflict", "already a member; change the role with PATCH"))
		return
	}
	if err := authz.SetRole(rq.P, orgID, "", req.Role); err != nil {
		s.fail(w, r, err)
		return
	}
	m := store.Membership{OrgID: orgID, UserID: u.ID, Email: u.Email, Role: req.Role}
	if err := s.Dir.PutMembership(r.Context(), m); err != nil {
		s.fail(w, r, err)
		return
	}
	s.record(r, rq, "member.add", "user:"+u.ID, orgID, "", req.Role)
	writeJSON(w, http.StatusCreated, m)
}

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request, rq *Request) {
	orgID, err := s.orgFor(r, rq, authz.OrgView)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ms, err := s.Dir.ListMembers(r.Context(), orgID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"members": nonNil(ms)})
}

// member finds a member of the org in the path, or 404.
func (s *Server) member(r *http.Request, orgID string) (store.Membership, error) {
	uid, err := pathID(r, "user")
	if err != nil {
		return store.Membership{}, err
	}
	ms, err := s.Dir.ListMembers(r.Context(), orgID)
	if err != nil {
		return store.Membership{}, err
	}
	for _, m := range ms {
		if m.UserID == uid {
			return m, nil
		}
	}
	return store.Membership{}, errNotFound
}

func (s *Server) getMember(w http.ResponseWriter, r *http.Request, rq *Request) {
	orgID, err := s.orgFor(r, rq, authz.OrgView)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	m, err := s.member(r, orgID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) patchMember(w http.ResponseWriter, r *http.Request, rq *Request) {
	orgID, err := s.orgFor(r, rq, authz.OrgManageMembers)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req struct {
		Role string `json:"role"`
	}
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if !authz.ValidRole(req.Role) {
		s.fail(w, r, badRequest("role must be owner, admin, operator or viewer"))
		return
	}
	m, err := s.member(r, orgID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := authz.SetRole(rq.P, orgID, m.Role, req.Role); err != nil {
		s.fail(w, r, err)
		return
	}
	if m.Role == store.RoleOwner && req.Role != store.RoleOwner {
		if err := s.keepAnOwner(r, orgID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	from := m.Role
	m.Role = req.Role
	if err := s.Dir.PutMembership(r.Context(), m); err != nil {
		s.fail(w, r, err)
		return
	}
	s.record(r, rq, "member.role", "user:"+m.UserID, orgID, "", from+"->"+req.Role)
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) deleteMember(w http.ResponseWriter, r *http.Request, rq *Request) {
	orgID, err := s.orgFor(r, rq, authz.OrgManageMembers)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	m, err := s.member(r, orgID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := authz.SetRole(rq.P, orgID, m.Role, ""); err != nil {
		s.fail(w, r, err)
		return
	}
	if m.Role == store.RoleOwner {
		if err := s.keepAnOwner(r, orgID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if err := s.Dir.DeleteMembership(r.Context(), orgID, m.UserID); err != nil {
		s.fail(w, r, err)
		return
	}
	s.record(r, rq, "member.remove", "user:"+m.UserID, orgID, "", m.Role)
	w.WriteHeader(http.StatusNoContent)
}

// keepAnOwner refuses to demote or remove the last owner of an organisation.
func (s *Server) keepAnOwner(r *http.Request, orgID string) error {
	ms, err := s.Dir.ListMembers(r.Context(), orgID)
	if err != nil {
		return err
	}
	owners := 0
	for _, m := range ms {
		if m.Role == store.RoleOwner {
			owners++
		}
	}
	if owners <= 1 {
		return errf(http.StatusConflict, "last_owner", "an organisation must keep at least one owner")
	}
	return nil
}
