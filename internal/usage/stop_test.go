package usage_test

import (
	"context"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/apptest"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/testenv"
	"github.com/camcloud/camcloud/internal/usage"
)

// TestFlushOnGracefulStop: what a node counted and had not flushed yet
// (the flush interval is an hour) is in the zone database once the node
// stopped gracefully.
func TestFlushOnGracefulStop(t *testing.T) {
	n := apptest.Start(t, "--usage-flush", "1h")
	admin := login(t, n.Base, apptest.AdminEmail, apptest.AdminPassword)
	var org struct{ ID string }
	var cam struct{ ID string }
	testenv.APICall(t, n.Base, admin, "POST", "/api/v1/orgs", map[string]string{"name": "stopping"}, &org)
	testenv.APICall(t, n.Base, admin, "POST", "/api/v1/cameras", map[string]any{"org_id": org.ID, "name": "gate"}, &cam)
	n.App.Usage.Add("local", org.ID, cam.ID, usage.EgressClip, 12345)
	dsn := n.App.Cfg.Zones[0].DB
	n.Stop()
	n.App.Close()

	z, err := store.OpenZone(context.Background(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	var got int64
	day := usage.Day(time.Now())
	if err := z.ScanUsage(context.Background(), org.ID, day.AddDate(0, 0, -1), day.AddDate(0, 0, 1), func(u store.UsageRow) error {
		got += u.Counts[store.UsageEgressClip]
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got != 12345 {
		t.Errorf("after a graceful stop the zone has %d clip bytes, want 12345", got)
	}
}
