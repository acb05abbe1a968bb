package authz

import (
	"slices"

	"github.com/camcloud/camcloud/internal/store"
)

// ReadBookmarks decides whether p may list cam's bookmarks: whoever may
// play its recordings back sees the notes on its timeline.
func ReadBookmarks(p *Principal, cam store.Camera) error { return Camera(p, cam, PermPlayback) }

// WriteBookmark decides whether p may add or delete bookmarks of cam: as
// for custom events, its organisation's owners, admins and operators, or
// a member granted manage on it, who may also play it back; viewers may
// not (403). Another organisation's camera is not found.
func WriteBookmark(p *Principal, cam store.Camera) error {
	if err := Camera(p, cam, PermPlayback); err != nil {
		return err
	}
	if slices.Contains(eventRoles, p.RoleIn(cam.OrgID)) || Camera(p, cam, PermManage) == nil {
		return nil
	}
	return ErrForbidden
}
