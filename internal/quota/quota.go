// Package quota is the storage service of organisations: the quota an
// organisation's recordings may take in all zones together
// (storage_quota_bytes, set by its owners and admins) and what they take
// now, per camera and in all, read from each zone's per-camera use
// (store.SegmentUsageStore, kept with the segment index) with the oldest
// recording each camera still has. Enforcing the quota is package
// retention's: each zone's sweeper deletes its share, oldest first.
package quota

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/zone"
)

// MaxQuota is the largest quota accepted (1 EiB): enough for any
// organisation, small enough that sums never overflow.
const MaxQuota = int64(1) << 60

// ErrBadQuota refuses a negative or too large quota (a 400).
var ErrBadQuota = fmt.Errorf("storage_quota_bytes must be 0 (no quota) to %d", MaxQuota)

// Service reads and sets organisations' storage.
type Service struct {
	dir   store.Directory
	zones *zone.Registry
	log   *slog.Logger
}

// New returns the service.
func New(dir store.Directory, zones *zone.Registry, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{dir: dir, zones: zones, log: log}
}

// SetQuota sets orgID's quota for p (authz.ManageStorage) and returns the
// organisation before and after.
func (s *Service) SetQuota(ctx context.Context, p *authz.Principal, orgID string, bytes int64) (before, after store.Org, err error) {
	if err := authz.ManageStorage(p, orgID); err != nil {
		return before, after, err
	}
	if bytes < 0 || bytes > MaxQuota {
		return before, after, ErrBadQuota
	}
	old, err := s.dir.SetOrgQuota(ctx, orgID, bytes)
	if err != nil {
		return before, after, err
	}
	after, err = s.dir.GetOrg(ctx, orgID)
	before = after
	before.StorageQuotaBytes = old
	return before, after, err
}

// Camera is one camera's storage.
type Camera struct {
	ID, Name, Zone string
	Bytes          int64
	Segments       int64
	// Oldest is the start of its oldest recording still kept (zero: none).
	Oldest time.Time
	Holds  int
	// Unavailable is set when its zone could not answer.
	Unavailable bool
}

// Storage is an organisation's storage use.
type Storage struct {
	Org     store.Org
	Bytes   int64 // the sum over cameras that answered
	Cameras []Camera
	// Zones is each zone's count as its retention sweeper last wrote it
	// (what the quota is enforced with).
	Zones []store.OrgStorage
}

// Usage returns orgID's storage for p (authz.ViewStorage), by camera.
func (s *Service) Usage(ctx context.Context, p *authz.Principal, orgID string) (Storage, error) {
	if err := authz.ViewStorage(p, orgID); err != nil {
		return Storage{}, err
	}
	o, err := s.dir.GetOrg(ctx, orgID)
	if err != nil {
		return Storage{}, err
	}
	cams, err := s.dir.ListCameras(ctx, []string{orgID})
	if err != nil {
		return Storage{}, err
	}
	out := Storage{Org: o, Cameras: make([]Camera, len(cams))}
	byZone := map[string][]int{}
	ids := make([]string, len(cams))
	for i, c := range cams {
		out.Cameras[i] = Camera{ID: c.ID, Name: c.Name, Zone: c.Zone}
		byZone[c.Zone] = append(byZone[c.Zone], i)
		ids[i] = c.ID
	}
	holds, err := s.dir.ListHolds(ctx, ids)
	if err != nil {
		return Storage{}, err
	}
	count := map[string]int{}
	for _, h := range holds {
		count[h.CameraID]++
	}
	for zn, idx := range byZone {
		if err := s.zoneUsage(ctx, zn, out.Cameras, idx); err != nil {
			s.log.Warn("storage use of a zone unavailable", "zone", zn, "err", err)
			for _, i := range idx {
				out.Cameras[i].Unavailable = true
			}
		}
	}
	for i := range out.Cameras {
		out.Cameras[i].Holds = count[out.Cameras[i].ID]
		out.Bytes += out.Cameras[i].Bytes
	}
	if out.Zones, err = s.dir.ListOrgStorage(ctx, orgID); err != nil {
		return Storage{}, err
	}
	return out, nil
}

// zoneUsage fills the use and oldest recording of cams[idx], all of zone zn.
func (s *Service) zoneUsage(ctx context.Context, zn string, cams []Camera, idx []int) error {
	if s.zones == nil {
		return errors.New("no zones on this node")
	}
	z, err := s.zones.Get(zn)
	if err != nil {
		return err
	}
	ids := make([]string, len(idx))
	for k, i := range idx {
		ids[k] = cams[i].ID
	}
	use, err := z.DB.CameraUsage(ctx, ids)
	if err != nil {
		return err
	}
	far := time.Now().Add(100 * 365 * 24 * time.Hour)
	for _, i := range idx {
		u, ok := use[cams[i].ID]
		if !ok {
			continue
		}
		cams[i].Bytes, cams[i].Segments = u.Bytes, u.Segments
		first, err := z.DB.ExpiredSegments(ctx, cams[i].ID, time.Time{}, far, 1)
		if err != nil {
			return err
		}
		if len(first) > 0 {
			cams[i].Oldest = first[0].Start
		}
	}
	return nil
}
