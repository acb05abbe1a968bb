// Package authz decides every permission in camcloud. Handlers ask it and
// never decide themselves. It denies by default, and answers "not found" for
// a camera or organisation the principal may not even know of, so ids cannot
// be probed.
package authz

import (
	"errors"
	"slices"
	"strings"

	"github.com/camcloud/camcloud/internal/store"
)

// ErrNotFound means the target must look as if it does not exist (404).
var ErrNotFound = errors.New("not found")

// ErrForbidden means the principal may see the target but not do this (403).
var ErrForbidden = errors.New("forbidden")

// Camera permissions, as granted per camera and implied by roles.
const (
	PermView     = "view"
	PermLive     = "live"
	PermPlayback = "playback"
	PermExport   = "export"
	PermManage   = "manage"
)

// GrantablePerms are the permissions a per-camera grant may carry.
var GrantablePerms = []string{PermLive, PermPlayback, PermExport, PermManage}

// Organisation actions.
const (
	OrgView          = "org.view"
	OrgManageMembers = "org.members"
	OrgCreateCamera  = "org.camera.create"
	OrgAudit         = "org.audit"
)

// roleCameraPerms lists what each role may do on every camera of its org.
var roleCameraPerms = map[string][]string{
	store.RoleOwner:    {PermView, PermLive, PermPlayback, PermExport, PermManage},
	store.RoleAdmin:    {PermView, PermLive, PermPlayback, PermExport, PermManage},
	store.RoleOperator: {PermView, PermLive, PermPlayback, PermExport},
	store.RoleViewer:   {PermView, PermLive, PermPlayback},
}

// roleOrgActions lists what each role may do on its organisation.
var roleOrgActions = map[string][]string{
	store.RoleOwner:    {OrgView, OrgManageMembers, OrgCreateCamera, OrgAudit},
	store.RoleAdmin:    {OrgView, OrgManageMembers, OrgCreateCamera, OrgAudit},
	store.RoleOperator: {OrgView},
	store.RoleViewer:   {OrgView},
}

// roleRank orders roles so that nobody can hand out more than they hold.
var roleRank = map[string]int{store.RoleViewer: 1, store.RoleOperator: 2, store.RoleAdmin: 3, store.RoleOwner: 4}

// ValidRole reports whether r is one of the four roles.
func ValidRole(r string) bool { _, ok := roleRank[r]; return ok }

// ValidPerm reports whether p may appear in a grant.
func ValidPerm(p string) bool { return slices.Contains(GrantablePerms, p) }

// Principal is who is asking: a user with the memberships and grants loaded
// for this request.
type Principal struct {
	UserID        string
	Email         string
	PlatformAdmin bool
	// Roles maps organisation id to the user's role there.
	Roles map[string]string
	// Grants maps camera id to extra permissions on that camera.
	Grants map[string][]string
	// ActingOrgID and ActingRole are set while a platform operator assumes an
	// organisation's role for support; ActingRole then counts as a membership.
	ActingOrgID string
	ActingRole  string
}

// RoleIn returns the principal's effective role in an organisation, or "".
func (p *Principal) RoleIn(orgID string) string {
	if p == nil {
		return ""
	}
	if p.ActingOrgID == orgID && p.ActingRole != "" {
		return p.ActingRole
	}
	return p.Roles[orgID]
}

// Orgs returns the organisations whose cameras the principal may list.
func (p *Principal) Orgs() []string {
	if p == nil {
		return []string{}
	}
	out := make([]string, 0, len(p.Roles)+1)
	for id := range p.Roles {
		out = append(out, id)
	}
	if p.ActingOrgID != "" && !slices.Contains(out, p.ActingOrgID) {
		out = append(out, p.ActingOrgID)
	}
	slices.Sort(out)
	return out
}

// Camera decides whether p may do perm on cam.
func Camera(p *Principal, cam store.Camera, perm string) error {
	if p == nil {
		return ErrNotFound
	}
	role := p.RoleIn(cam.OrgID)
	if role == "" {
		// Cameras of organisations one is not in do not exist for one.
		return ErrNotFound
	}
	if slices.Contains(roleCameraPerms[role], perm) || slices.Contains(p.Grants[cam.ID], perm) {
		return nil
	}
	return ErrForbidden
}

// CameraPerms lists everything p may do on cam (for UIs to hide controls).
func CameraPerms(p *Principal, cam store.Camera) []string {
	var out []string
	for _, perm := range append([]string{PermView}, GrantablePerms...) {
		if Camera(p, cam, perm) == nil {
			out = append(out, perm)
		}
	}
	return out
}

// PostEvent decides whether p may post custom events onto cam's timeline
// (POST /cameras/{id}/events): those who may view it see its events, and
// its organisation's owners, admins and operators, or a member granted
// manage on it, may add to them; viewers may not (a 403). Another
// organisation's camera is not found. An API key may post if its user
// may and its scope lets it write (httpapi refuses read-only keys).
func PostEvent(p *Principal, cam store.Camera) error {
	if err := Camera(p, cam, PermView); err != nil {
		return err
	}
	if slices.Contains(eventRoles, p.RoleIn(cam.OrgID)) || Camera(p, cam, PermManage) == nil {
		return nil
	}
	return ErrForbidden
}

// eventRoles are the roles that may post custom events on every camera of
// their organisation.
var eventRoles = []string{store.RoleOwner, store.RoleAdmin, store.RoleOperator}

// Org decides whether p may do action on the organisation.
func Org(p *Principal, orgID, action string) error {
	if p == nil {
		return ErrNotFound
	}
	role := p.RoleIn(orgID)
	if role == "" {
		return ErrNotFound
	}
	if slices.Contains(roleOrgActions[role], action) {
		return nil
	}
	return ErrForbidden
}

// CreateOrg decides whether p may create organisations: platform admins only,
// since a self-hosted install is run by its operators.
func CreateOrg(p *Principal) error {
	if p != nil && p.PlatformAdmin {
		return nil
	}
	return ErrForbidden
}

// SetRole decides whether p may change a member of orgID from role `from`
// ("" for a new member) to role `to` ("" for removal). Nobody hands out or
// takes away a role above their own, and only owners touch owners.
func SetRole(p *Principal, orgID, from, to string) error {
	if err := Org(p, orgID, OrgManageMembers); err != nil {
		return err
	}
	mine := roleRank[p.RoleIn(orgID)]
	if roleRank[from] > mine || roleRank[to] > mine {
		return ErrForbidden
	}
	if (from == store.RoleOwner || to == store.RoleOwner) && p.RoleIn(orgID) != store.RoleOwner {
		return ErrForbidden
	}
	return nil
}

// Grant decides whether p may give or take per-camera permissions on cam.
func Grant(p *Principal, cam store.Camera) error {
	if err := Camera(p, cam, PermView); err != nil {
		return err
	}
	if err := Org(p, cam.OrgID, OrgManageMembers); err != nil {
		return ErrForbidden
	}
	return nil
}

// AuditRead decides whether p may read audit entries of orgID ("" for the
// whole platform log, platform admins only).
func AuditRead(p *Principal, orgID string) error {
	if p == nil {
		return ErrForbidden
	}
	if orgID == "" {
		if p.PlatformAdmin {
			return nil
		}
		return ErrForbidden
	}
	return Org(p, orgID, OrgAudit)
}

// AuditOrgs returns the organisations whose audit entries p may read; nil
// means all (platform admin).
func AuditOrgs(p *Principal) []string {
	if p == nil {
		return []string{}
	}
	if p.PlatformAdmin {
		return nil
	}
	out := []string{}
	for _, id := range p.Orgs() {
		if Org(p, id, OrgAudit) == nil {
			out = append(out, id)
		}
	}
	return out
}

// AssumeRole decides whether p may act as an organisation's admin for
// support: platform admins only, and the caller must have checked their
// second factor.
func AssumeRole(p *Principal, totpVerified bool) error {
	if p == nil || !p.PlatformAdmin {
		return ErrForbidden
	}
	if !totpVerified {
		return ErrForbidden
	}
	return nil
}

// ChangeOwnMembership decides whether p may change the membership of
// userID (or of the account of email, when userID is "") in orgID as far
// as who p is goes: a platform operator acting in orgID through support
// access may not add, change or remove itself there, so that support
// access cannot be turned into a membership that outlives it. The usual
// SetRole rules apply besides.
func ChangeOwnMembership(p *Principal, orgID, userID, email string) error {
	if p == nil || p.ActingOrgID != orgID || p.ActingRole == "" {
		return nil
	}
	if userID != "" && userID == p.UserID || userID == "" && email != "" && strings.EqualFold(email, p.Email) {
		return ErrForbidden
	}
	return nil
}
