package zone

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/store"
)

// fakeZone answers the two calls Locator makes.
type fakeZone struct {
	store.Zone
	st      store.CameraStatus
	servers []store.Server
}

func (z *fakeZone) GetStatus(context.Context, string) (store.CameraStatus, error) { return z.st, nil }
func (z *fakeZone) ListServers(context.Context, time.Time) ([]store.Server, error) {
	return z.servers, nil
}

func TestLocator(t *testing.T) {
	z := &fakeZone{servers: []store.Server{{ID: "s1", Addr: "http://10.0.0.1:8080"}, {ID: "s2", Addr: "http://b", Draining: true}}}
	loc := Locator(func(name string) (store.Zone, error) {
		if name != "local" {
			return nil, errors.New("no zone")
		}
		return z, nil
	}, "me", time.Minute)
	cam := store.Camera{ID: "c", Zone: "local"}
	for _, tc := range []struct {
		st   store.CameraStatus
		want string
		err  error
	}{
		{store.CameraStatus{}, "", ErrOffline},
		{store.CameraStatus{Online: true, Server: "me"}, "", nil},
		{store.CameraStatus{Online: true, Server: "s1"}, "http://10.0.0.1:8080", nil},
		{store.CameraStatus{Online: true, Server: "s2"}, "", ErrOffline},
		{store.CameraStatus{Online: true, Server: "gone"}, "", ErrOffline},
	} {
		z.st = tc.st
		got, err := loc(context.Background(), cam)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("%+v: %q %v, want %q %v", tc.st, got, err, tc.want, tc.err)
		}
	}
	if _, err := loc(context.Background(), store.Camera{ID: "c", Zone: "other"}); err == nil || errors.Is(err, ErrOffline) {
		t.Errorf("unknown zone: %v", err)
	}
}
