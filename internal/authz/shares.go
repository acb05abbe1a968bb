package authz

import "github.com/camcloud/camcloud/internal/store"

// CreateShare decides whether p may make a share link of cam: a link to a
// recorded range needs export (what a holder sees could be downloaded by
// p too), a live link needs live. Another organisation's camera is not
// found.
func CreateShare(p *Principal, cam store.Camera, live bool) error {
	if live {
		return Camera(p, cam, PermLive)
	}
	return Camera(p, cam, PermExport)
}

// SeeShare decides whether p may list and revoke a share link of cam made
// by createdBy: its creator, while they may still view the camera, and
// whoever may manage the camera (owners, admins, a manage grant). To
// anybody else the link does not exist (ErrNotFound), so its id cannot be
// probed.
func SeeShare(p *Principal, cam store.Camera, createdBy string) error {
	if err := Camera(p, cam, PermView); err != nil {
		return ErrNotFound
	}
	if p.UserID == createdBy && createdBy != "" || Camera(p, cam, PermManage) == nil {
		return nil
	}
	return ErrNotFound
}
