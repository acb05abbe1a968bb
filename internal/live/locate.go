package live

import (
	"context"
	"fmt"
	"time"

	"github.com/camcloud/camcloud/internal/store"
)

// ZoneLocator builds a Deps.Locate from the zone databases: the camera's
// status names its holder server, whose registered Addr is the base URL.
// zoneDB opens the zone a camera lives in; selfID is this process's camera
// server id ("" when it runs none); servers whose heartbeat is older than
// alive count as gone. A camera not online, held by no live server, or by
// a draining one, is ErrOffline.
func ZoneLocator(zoneDB func(zone string) (store.Zone, error), selfID string, alive time.Duration) func(ctx context.Context, cam store.Camera) (string, error) {
	return func(ctx context.Context, cam store.Camera) (string, error) {
		z, err := zoneDB(cam.Zone)
		if err != nil {
			return "", fmt.Errorf("live: zone of camera %s: %w", cam.ID, err)
		}
		st, err := z.GetStatus(ctx, cam.ID)
		if err != nil {
			return "", fmt.Errorf("live: status of camera %s: %w", cam.ID, err)
		}
		if !st.Online || st.Server == "" {
			return "", ErrOffline
		}
		if st.Server == selfID {
			return "", nil
		}
		servers, err := z.ListServers(ctx, time.Now().Add(-alive))
		if err != nil {
			return "", fmt.Errorf("live: camera servers of zone %s: %w", cam.Zone, err)
		}
		for _, sv := range servers {
			if sv.ID == st.Server && !sv.Draining && sv.Addr != "" {
				return sv.Addr, nil
			}
		}
		return "", ErrOffline
	}
}
