package cameras

import (
	"context"

	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/store"
)

// ForPrincipal loads camera id and checks that p may do perm on it. Other
// organisations' cameras are not found (authz.ErrNotFound).
func (s *Service) ForPrincipal(ctx context.Context, p *authz.Principal, id, perm string) (store.Camera, error) {
	c, err := s.dir.GetCamera(ctx, id)
	if err != nil {
		return store.Camera{}, err
	}
	if err := authz.Camera(p, c, perm); err != nil {
		return store.Camera{}, &Refused{CameraID: c.ID, Perm: perm, Err: err}
	}
	return c, nil
}

// Refused is ForPrincipal's error for a camera that exists but that the
// principal may not use as asked: the HTTP layer audits it. It unwraps to
// authz's error, so that it still answers 404 (another organisation's
// camera) or 403.
type Refused struct {
	CameraID string
	Perm     string
	Err      error
}

func (e *Refused) Error() string { return e.Err.Error() }

// Unwrap returns authz's decision.
func (e *Refused) Unwrap() error { return e.Err }

// Get loads a camera with no permission check, for routes authorised by
// a signed media token.
func (s *Service) Get(ctx context.Context, id string) (store.Camera, error) {
	return s.dir.GetCamera(ctx, id)
}

// List returns the cameras of orgIDs that p may view, with the status
// their zones know (missing for a zone this process does not serve or
// that cannot answer: logged, not failed).
func (s *Service) List(ctx context.Context, p *authz.Principal, orgIDs []string) ([]store.Camera, map[string]store.CameraStatus, error) {
	cams, err := s.dir.ListCameras(ctx, orgIDs)
	if err != nil {
		return nil, nil, err
	}
	byZone := map[string][]string{}
	for _, c := range cams {
		byZone[c.Zone] = append(byZone[c.Zone], c.ID)
	}
	status := map[string]store.CameraStatus{}
	for zn, ids := range byZone {
		z, err := s.zone(zn)
		if err != nil {
			continue
		}
		m, err := z.DB.ListStatus(ctx, ids)
		if err != nil {
			s.log.Warn("camera status unavailable", "zone", zn, "err", err)
			continue
		}
		for k, v := range m {
			status[k] = v
		}
	}
	out := make([]store.Camera, 0, len(cams))
	for _, c := range cams {
		if authz.Camera(p, c, authz.PermView) == nil {
			out = append(out, c)
		}
	}
	return out, status, nil
}

// Status reads a camera's status from its zone; a zone that cannot answer
// yields an empty status (logged) rather than an error.
func (s *Service) Status(ctx context.Context, c store.Camera) store.CameraStatus {
	z, err := s.zone(c.Zone)
	if err != nil {
		return store.CameraStatus{}
	}
	st, err := z.DB.GetStatus(ctx, c.ID)
	if err != nil {
		s.log.Warn("camera status unavailable", "camera", c.ID, "zone", c.Zone, "err", err)
	}
	return st
}

// Delete removes a camera and its grants; its recordings age out.
func (s *Service) Delete(ctx context.Context, c store.Camera) error {
	return s.dir.DeleteCamera(ctx, c.ID)
}
