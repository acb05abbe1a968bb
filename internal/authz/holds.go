package authz

import (
	"slices"

	"github.com/camcloud/camcloud/internal/store"
)

// holdReleaseRoles and storageRoles are the roles that release legal
// holds and set an organisation's storage quota.
var (
	holdReleaseRoles = []string{store.RoleOwner, store.RoleAdmin}
	storageRoles     = []string{store.RoleOwner, store.RoleAdmin}
)

// ViewHolds decides whether p may list cam's legal holds (they are shown
// on its timeline): whoever may play its recordings back.
func ViewHolds(p *Principal, cam store.Camera) error {
	return Camera(p, cam, PermPlayback)
}

// PlaceHold decides whether p may put a legal hold on cam's recordings:
// whoever may manage the camera (its organisation's owners and admins, or
// a member granted manage on it). Placing a hold only keeps recordings
// longer, so it is given as widely as managing the camera; others who may
// see the camera get ErrForbidden, those who may not ErrNotFound.
func PlaceHold(p *Principal, cam store.Camera) error {
	if err := Camera(p, cam, PermView); err != nil {
		return err
	}
	return Camera(p, cam, PermManage)
}

// ReleaseHold decides whether p may release a legal hold on cam: only
// the organisation's owners and admins (a platform operator acting there
// as admin too), never a per-camera grant, since a release lets retention
// delete what a hold was placed to keep, and then the camera itself.
func ReleaseHold(p *Principal, cam store.Camera) error {
	if err := Camera(p, cam, PermView); err != nil {
		return err
	}
	if slices.Contains(holdReleaseRoles, p.RoleIn(cam.OrgID)) {
		return nil
	}
	return ErrForbidden
}

// ViewStorage decides whether p may read orgID's storage use and quota:
// every member (they see its cameras).
func ViewStorage(p *Principal, orgID string) error {
	return Org(p, orgID, OrgView)
}

// ManageStorage decides whether p may set orgID's storage quota: its
// owners and admins. A quota makes retention delete the oldest recordings,
// so it is an organisation-wide decision.
func ManageStorage(p *Principal, orgID string) error {
	if err := Org(p, orgID, OrgView); err != nil {
		return err
	}
	if slices.Contains(storageRoles, p.RoleIn(orgID)) {
		return nil
	}
	return ErrForbidden
}
