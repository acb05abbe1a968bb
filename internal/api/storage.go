package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/quota"
)

// registerStorage adds an organisation's quota and storage routes.
func (s *server) registerStorage(rt *httpapi.Router) {
	rt.Handle("PATCH /api/v1/orgs/{org}", s.patchOrg)
	rt.Handle("GET /api/v1/orgs/{org}/storage", s.orgStorage)
}

func (s *server) patchOrg(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	orgID, err := httpapi.PathID(r, "org")
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	var req struct {
		StorageQuotaBytes *int64 `json:"storage_quota_bytes"`
	}
	if err := httpapi.Decode(w, r, &req); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if req.StorageQuotaBytes == nil {
		httpapi.Fail(w, r, httpapi.BadRequest("nothing to change: storage_quota_bytes is the field an organisation's PATCH sets"))
		return
	}
	before, after, err := s.Quota.SetQuota(r.Context(), rq.P, orgID, *req.StorageQuotaBytes)
	if errors.Is(err, quota.ErrBadQuota) {
		err = httpapi.BadRequest("%s", err.Error())
	}
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.Record(r, rq, "org.update", "org:"+orgID, orgID, "",
		fmt.Sprintf("storage_quota_bytes: %d -> %d", before.StorageQuotaBytes, after.StorageQuotaBytes))
	httpapi.WriteJSON(w, http.StatusOK, orgJSON(after))
}

type cameraStorageWire struct {
	ID              string     `json:"id"`
	Name            string     `json:"name"`
	Zone            string     `json:"zone"`
	UsedBytes       int64      `json:"used_bytes"`
	Segments        int64      `json:"segments"`
	OldestRecording *time.Time `json:"oldest_recording"`
	Holds           int        `json:"holds"`
	Unavailable     bool       `json:"unavailable,omitempty"`
}

type zoneStorageWire struct {
	Zone      string     `json:"zone"`
	UsedBytes int64      `json:"used_bytes"`
	Oldest    *time.Time `json:"oldest_deletable,omitempty"`
	UpdatedAt time.Time  `json:"updated_at"`
}

func (s *server) orgStorage(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	orgID, err := httpapi.PathID(r, "org")
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	st, err := s.Quota.Usage(r.Context(), rq.P, orgID)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	cams := make([]cameraStorageWire, 0, len(st.Cameras))
	for _, c := range st.Cameras {
		cams = append(cams, cameraStorageWire{ID: c.ID, Name: c.Name, Zone: c.Zone, UsedBytes: c.Bytes, Segments: c.Segments,
			OldestRecording: optTime(c.Oldest), Holds: c.Holds, Unavailable: c.Unavailable})
	}
	zones := make([]zoneStorageWire, 0, len(st.Zones))
	for _, z := range st.Zones {
		zones = append(zones, zoneStorageWire{Zone: z.Zone, UsedBytes: z.Bytes, Oldest: optTime(z.Oldest), UpdatedAt: z.UpdatedAt})
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{
		"org_id": orgID, "storage_quota_bytes": st.Org.StorageQuotaBytes, "used_bytes": st.Bytes, "cameras": cams, "zones": zones,
	})
}
