package authz

import "github.com/camcloud/camcloud/internal/store"

// adminRoles are the roles that manage an organisation's integrations
// (webhooks) and sites.
var adminRoles = []string{store.RoleOwner, store.RoleAdmin}

// ManageWebhooks decides whether p may list, create, change, test or
// delete orgID's webhooks and read their delivery logs: its owners and
// admins (a platform operator acting there as admin too). Other members
// get ErrForbidden (a webhook's URL and deliveries carry every camera's
// events, and its secret signs them); those who are no member get
// ErrNotFound.
func ManageWebhooks(p *Principal, orgID string) error { return orgAdmin(p, orgID) }

// orgAdmin lets an organisation's owners and admins pass; other members
// get ErrForbidden, those who are no member ErrNotFound.
func orgAdmin(p *Principal, orgID string) error { return orgRole(p, orgID, adminRoles) }
