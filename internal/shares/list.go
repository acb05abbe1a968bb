package shares

import (
	"context"
	"errors"
	"slices"

	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/store"
)

// Filter narrows a listing; empty fields match everything.
type Filter struct {
	OrgID    string
	CameraID string
}

// List returns the links of p's organisations that p may see
// (authz.SeeShare), newest first, at most 1000.
func (s *Service) List(ctx context.Context, p *authz.Principal, f Filter) ([]Link, error) {
	orgs := p.Orgs()
	if f.OrgID != "" {
		if !slices.Contains(orgs, f.OrgID) {
			return []Link{}, nil
		}
		orgs = []string{f.OrgID}
	}
	rows, err := s.d.Dir.ListShares(ctx, orgs, maxList)
	if err != nil {
		return nil, err
	}
	now := s.d.Now()
	cams := map[string]*store.Camera{}
	out := []Link{}
	for _, sh := range rows {
		if f.CameraID != "" && sh.CameraID != f.CameraID {
			continue
		}
		cam, ok := cams[sh.CameraID]
		if !ok {
			c, err := s.d.Cameras.Get(ctx, sh.CameraID)
			switch {
			case errors.Is(err, store.ErrNotFound): // deleted meanwhile: its links go with it
			case err != nil:
				return nil, err
			default:
				cam = &c
			}
			cams[sh.CameraID] = cam
		}
		if cam != nil && authz.SeeShare(p, *cam, sh.CreatedBy) == nil {
			out = append(out, link(sh, *cam, now))
		}
	}
	return out, nil
}

// Revoke revokes link id for p, at once: every holder's next request is
// refused. It returns the link as it is now; authz.ErrNotFound when p may
// not see it. Revoking a revoked link is no error.
func (s *Service) Revoke(ctx context.Context, p *authz.Principal, by, id string) (Link, error) {
	sh, err := s.d.Dir.GetShare(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Link{}, authz.ErrNotFound
	}
	if err != nil {
		return Link{}, err
	}
	cam, err := s.d.Cameras.Get(ctx, sh.CameraID)
	if errors.Is(err, store.ErrNotFound) {
		return Link{}, authz.ErrNotFound
	}
	if err != nil {
		return Link{}, err
	}
	if err := authz.SeeShare(p, cam, sh.CreatedBy); err != nil {
		return Link{}, err
	}
	now := s.d.Now().UTC()
	if _, err := s.d.Dir.RevokeShare(ctx, id, by, now); err != nil {
		return Link{}, err
	}
	if sh.Revoked.IsZero() {
		sh.Revoked, sh.RevokedBy = now.Truncate(0), by
	}
	return link(sh, cam, now), nil
}
