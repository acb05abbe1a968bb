package zone

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/camcloud/camcloud/internal/store"
)

// ErrOffline is what a Locator returns when no live camera server holds
// the camera: it is not online, its server stopped heartbeating, or it is
// draining.
var ErrOffline = errors.New("camera is not streaming on any camera server")

// HolderAlive is how old a camera server's last heartbeat may be for it to
// count as holding its cameras.
const HolderAlive = 30 * time.Second

// Locate tells the base URL ("http://host:port", the server's registered
// Addr) of the camera server holding cam, "" when that is this very
// process, or ErrOffline.
type Locate func(ctx context.Context, cam store.Camera) (baseURL string, err error)

// Locator finds the holder of a camera from the zone databases: the
// camera's status names its holder server, whose registered Addr is the
// base URL. zoneDB opens the zone a camera lives in; selfID is this
// process's camera server id ("" when it runs none); servers whose
// heartbeat is older than alive count as gone. Live video (the /live
// hand-out) and playback of what is not uploaded yet (the holder's spool)
// both find the holder with it.
func Locator(zoneDB func(zone string) (store.Zone, error), selfID string, alive time.Duration) Locate {
	return func(ctx context.Context, cam store.Camera) (string, error) {
		z, err := zoneDB(cam.Zone)
		if err != nil {
			return "", fmt.Errorf("zone of camera %s: %w", cam.ID, err)
		}
		st, err := z.GetStatus(ctx, cam.ID)
		if err != nil {
			return "", fmt.Errorf("status of camera %s: %w", cam.ID, err)
		}
		if !st.Online || st.Server == "" {
			return "", ErrOffline
		}
		if st.Server == selfID {
			return "", nil
		}
		servers, err := z.ListServers(ctx, time.Now().Add(-alive))
		if err != nil {
			return "", fmt.Errorf("camera servers of zone %s: %w", cam.Zone, err)
		}
		for _, sv := range servers {
			if sv.ID == st.Server && !sv.Draining && sv.Addr != "" {
				return sv.Addr, nil
			}
		}
		return "", ErrOffline
	}
}

// Locator is the Locator of the registry's zones.
func (r *Registry) Locator(selfID string, alive time.Duration) Locate {
	return Locator(func(name string) (store.Zone, error) {
		z, err := r.Get(name)
		if err != nil {
			return nil, err
		}
		return z.DB, nil
	}, selfID, alive)
}
