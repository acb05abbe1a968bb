package events

import (
	"context"
	"encoding/json"
	"time"

	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/usage"
)

// MarkOnline records that camera cameraID is online on server serverID
// since at: a camera.online event when its announced presence was not
// online already (a reconnect within the offline debounce is not news),
// decided in one transaction, so that servers of a zone racing for the
// same camera make one event. It reports whether it made one.
func (s *Service) MarkOnline(ctx context.Context, cameraID, serverID string, at time.Time, detail json.RawMessage) (bool, error) {
	r, zn, err := s.row(ctx, Event{CameraID: cameraID, Type: TypeOnline, Start: at, Detail: detail})
	if err != nil {
		return false, err
	}
	db, err := s.zoneDB(zn)
	if err != nil {
		return false, err
	}
	changed, _, err := db.MarkOnline(ctx, cameraID, serverID, at, r)
	if changed {
		s.recorded.WithLabelValues(TypeOnline).Inc()
		s.c.Meter.Add(zn, r.OrgID, cameraID, usage.Events, 1)
		s.broker.poke(zn)
	}
	return changed, err
}

// MarkOffline records camera.offline for cameraID, starting when its
// status last saw it, if its announced presence is online and its status
// (read in the same transaction) says it is gone: offline and last seen
// at or before awayBefore, or online but not reported since staleBefore.
// It reports whether it did, and returns the status it saw.
func (s *Service) MarkOffline(ctx context.Context, cameraID string, awayBefore, staleBefore time.Time, detail json.RawMessage) (bool, store.CameraStatus, error) {
	cam, err := s.camera(ctx, cameraID)
	if err != nil {
		return false, store.CameraStatus{}, err
	}
	db, err := s.zoneDB(cam.Zone)
	if err != nil {
		return false, store.CameraStatus{}, err
	}
	st, err := db.GetStatus(ctx, cameraID)
	if err != nil {
		return false, store.CameraStatus{}, err
	}
	start := st.LastSeen
	if start.IsZero() {
		start = s.c.Now()
	}
	r, _, err := s.row(ctx, Event{CameraID: cameraID, Type: TypeOffline, Start: start, Detail: detail})
	if err != nil {
		return false, store.CameraStatus{}, err
	}
	changed, seen, _, err := db.MarkOffline(ctx, cameraID, awayBefore, staleBefore, r)
	if changed {
		s.recorded.WithLabelValues(TypeOffline).Inc()
		s.c.Meter.Add(cam.Zone, cam.OrgID, cameraID, usage.Events, 1)
		s.broker.poke(cam.Zone)
	}
	return changed, seen, err
}

// Presence returns the presence announced for cameraID in zone zn.
func (s *Service) Presence(ctx context.Context, zn, cameraID string) (store.Presence, error) {
	db, err := s.zoneDB(zn)
	if err != nil {
		return store.Presence{}, err
	}
	return db.GetPresence(ctx, cameraID)
}

// AwayCameras lists up to limit cameras of zone zn announced online whose
// status says they are gone (as MarkOffline decides): what a sweep hands
// to MarkOffline.
func (s *Service) AwayCameras(ctx context.Context, zn string, awayBefore, staleBefore time.Time, limit int) ([]store.AwayCamera, error) {
	db, err := s.zoneDB(zn)
	if err != nil {
		return nil, err
	}
	return db.AwayCameras(ctx, awayBefore, staleBefore, limit)
}

// ForgetPresence drops the presence of a camera that no longer exists.
func (s *Service) ForgetPresence(ctx context.Context, zn, cameraID string) error {
	db, err := s.zoneDB(zn)
	if err != nil {
		return err
	}
	return db.DeletePresence(ctx, cameraID)
}
