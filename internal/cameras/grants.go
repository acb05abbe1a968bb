package cameras

import (
	"context"
	"errors"

	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/store"
)

// ErrNotMember is returned for a grant to a user who is not a member of
// the camera's organisation.
var ErrNotMember = errors.New("user is not a member of the camera's organisation")

// GrantsFor loads camera id for p, who must be allowed to manage its grants.
func (s *Service) GrantsFor(ctx context.Context, p *authz.Principal, id string) (store.Camera, error) {
	c, err := s.ForPrincipal(ctx, p, id, authz.PermView)
	if err != nil {
		return c, err
	}
	return c, authz.Grant(p, c)
}

// Grants returns the grants on c of the members of its organisation.
func (s *Service) Grants(ctx context.Context, c store.Camera) ([]store.Grant, error) {
	ms, err := s.dir.ListMembers(ctx, c.OrgID)
	if err != nil {
		return nil, err
	}
	out := []store.Grant{}
	for _, m := range ms {
		g, err := s.dir.GetGrant(ctx, c.ID, m.UserID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

// CheckGrantee returns ErrNotMember unless userID is a member of c's
// organisation.
func (s *Service) CheckGrantee(ctx context.Context, c store.Camera, userID string) error {
	_, err := store.FindMember(ctx, s.dir, c.OrgID, userID)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotMember
	}
	return err
}

// PutGrant gives userID exactly perms (validated) on c. A grant to a member
// who is being removed at the same moment is not left behind: removal
// deletes the grants committed before it, and the membership is checked
// again after the grant is written (ErrNotMember, grant deleted).
func (s *Service) PutGrant(ctx context.Context, c store.Camera, userID string, perms []string) (store.Grant, error) {
	g := store.Grant{CameraID: c.ID, UserID: userID, Permissions: perms}
	if err := s.dir.PutGrant(ctx, g); err != nil {
		return g, err
	}
	if err := s.CheckGrantee(ctx, c, userID); err != nil {
		if derr := s.DeleteGrant(ctx, c, userID); derr != nil {
			return g, errors.Join(err, derr)
		}
		return g, err
	}
	return g, nil
}

// DeleteGrant takes userID's grant on c away; none is not an error.
func (s *Service) DeleteGrant(ctx context.Context, c store.Camera, userID string) error {
	if err := s.dir.DeleteGrant(ctx, c.ID, userID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}
