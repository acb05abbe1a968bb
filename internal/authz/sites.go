package authz

import "github.com/camcloud/camcloud/internal/store"

// ManageSites decides whether p may create an organisation's sites, hand
// out their enrolment tokens, revoke their agents' credentials and put
// cameras at them: its owners and admins (an enrolment token makes a
// machine a recorder of the organisation's cameras). Other members get
// ErrForbidden; those who are no member ErrNotFound.
func ManageSites(p *Principal, orgID string) error { return orgAdmin(p, orgID) }

// ViewSite decides whether p may see a site of orgID and its status:
// every member.
func ViewSite(p *Principal, orgID string) error { return Org(p, orgID, OrgView) }

// Agent is the second kind of caller: the edge agent of one site,
// authenticated by its site credential. It acts for its organisation on
// its own site's cameras only.
type Agent struct {
	SiteID string
	OrgID  string
}

// AgentCamera decides whether the agent a may bring cam's video (relay,
// backfill, gap reports): the camera must belong to a's site, in a's
// organisation. Any other camera is ErrNotFound, like a camera of another
// organisation to a user.
func AgentCamera(a *Agent, cam store.Camera) error {
	if a == nil || a.SiteID == "" || cam.SiteID != a.SiteID || cam.OrgID != a.OrgID {
		return ErrNotFound
	}
	return nil
}
