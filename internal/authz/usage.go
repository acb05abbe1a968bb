package authz

import (
	"slices"

	"github.com/camcloud/camcloud/internal/store"
)

// usageRoles are the roles that read an organisation's usage.
var usageRoles = []string{store.RoleOwner, store.RoleAdmin}

// ViewUsage decides whether p may read orgID's usage (what its cameras
// recorded, stored and served: its bill): its owners and admins (a
// platform operator acting there as admin too). Other members get
// ErrForbidden; those who are no member get ErrNotFound.
func ViewUsage(p *Principal, orgID string) error { return orgRole(p, orgID, usageRoles) }

// orgRole lets members of orgID whose role is among roles, refuses other
// members (ErrForbidden) and hides the organisation from the rest.
func orgRole(p *Principal, orgID string, roles []string) error {
	if err := Org(p, orgID, OrgView); err != nil {
		return err
	}
	if slices.Contains(roles, p.RoleIn(orgID)) {
		return nil
	}
	return ErrForbidden
}
