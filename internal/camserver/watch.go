package camserver

import (
	"context"
	"errors"
	"time"

	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/record"
	"github.com/camcloud/camcloud/internal/store"
)

// recording is one running Record of a hub stream; cancel stops it (its
// open segment is closed and uploaded).
type recording struct{ cancel context.CancelFunc }

// watch keeps what the server does in step with the directory until ctx
// ends: every WatchInterval it reads the zone's camera change token and,
// when it changed, looks at the zone's cameras at once (a camera deleted
// or turned off stops within about a second on whichever server holds
// it); every lease round it looks anyway, which also renews the leases.
// One goroutine does both, so rounds never overlap.
func (s *Server) watch(ctx context.Context) {
	poll := time.NewTicker(s.c.WatchInterval)
	defer poll.Stop()
	lease := time.NewTicker(s.c.LeaseTTL / 3)
	defer lease.Stop()
	var seen int64
	known := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
			tok, err := s.c.Dir.CameraChanges(ctx, s.c.Zone.Name)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("camera watch: read the change token", "err", err)
				}
				continue
			}
			if known && tok == seen {
				continue
			}
			// The token is read before the cameras: a change committed in
			// between is seen now or changes the token again.
			if s.reconcile(ctx) {
				seen, known = tok, true
			}
		case <-lease.C:
			s.reconcile(ctx)
		}
	}
}

// reconcile lists the zone's cameras and applies them: pulled cameras to
// the leases, pushed ones to the streams and recordings this server holds.
// It reports whether the list could be read.
func (s *Server) reconcile(ctx context.Context) bool {
	cams, err := s.c.Dir.ListCamerasByZone(ctx, s.c.Zone.Name)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("camera watch: list cameras", "err", err)
		}
		return false
	}
	s.leases(ctx, cams)
	s.streams(ctx, cams)
	return true
}

// streams applies cams (the zone's cameras as just listed) to the streams
// in the hub: a deleted camera's stream is closed, which drops its
// publisher (the camera's credentials are refused from then on, its
// recording ends); a camera whose recording is off stops recording and
// stays live; one whose recording is back on records again. Each change is
// checked against the camera as it is now, so that a camera created or
// changed after the list was read is left alone.
func (s *Server) streams(ctx context.Context, cams []store.Camera) {
	byID := make(map[string]store.Camera, len(cams))
	for _, c := range cams {
		byID[c.ID] = c
	}
	revoked := map[string]bool{} // by site, read once a round
	for _, id := range s.c.Hub.Cameras() {
		st := s.c.Hub.Get(id)
		if st == nil {
			continue
		}
		c, listed := byID[id]
		if listed && c.SiteID != "" && s.siteRevoked(ctx, c.SiteID, revoked) {
			s.log.Info("the camera's site was revoked: dropping its stream (the agent's relay)", "camera", id, "site", c.SiteID)
			st.Close()
			continue
		}
		on := listed && c.Recording != "off"
		if listed && on == s.recording(st) {
			continue
		}
		now, err := s.c.Dir.GetCamera(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			s.log.Info("camera deleted: dropping its stream", "camera", id)
			st.Close()
		case err != nil:
			s.log.Warn("camera watch: read camera", "camera", id, "err", err)
		case now.Zone != s.c.Zone.Name:
			s.log.Info("camera left the zone: dropping its stream", "camera", id)
			st.Close()
		case now.Recording == "off":
			s.stopRecording(st)
		default:
			go s.record(st)
		}
	}
}

// siteRevoked reports whether site id has no enrolled agent any more
// (revoked), caching the answer in seen for the round; a failed read
// counts as not revoked (the next round reads again).
func (s *Server) siteRevoked(ctx context.Context, id string, seen map[string]bool) bool {
	if r, ok := seen[id]; ok {
		return r
	}
	site, err := s.c.Dir.GetSite(ctx, id)
	r := errors.Is(err, store.ErrNotFound) || err == nil && site.CredHash == ""
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Warn("camera watch: read site", "site", id, "err", err)
	}
	seen[id] = r
	return r
}

// recording reports whether a recording of st runs.
func (s *Server) recording(st *hub.Stream) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recs[st] != nil
}

// stopRecording stops the recording of st, if any.
func (s *Server) stopRecording(st *hub.Stream) {
	s.mu.Lock()
	r := s.recs[st]
	s.off[st.CameraID] = true
	s.mu.Unlock()
	if r != nil {
		s.log.Info("recording turned off: stopping the recorder", "camera", st.CameraID)
		r.cancel()
	}
}

// record records st until it ends or its recording is stopped, unless a
// recording of st runs already or its camera's recording is off. The hub
// calls it for every new stream; the watch when recording is turned back
// on. The recording is registered before the camera is read, so that a
// watch round that turns it off in between stops it.
func (s *Server) record(st *hub.Stream) {
	ctx, cancel := context.WithCancel(s.recCtx)
	defer cancel()
	r := &recording{cancel: cancel}
	s.mu.Lock()
	if s.recs[st] != nil {
		s.mu.Unlock()
		return
	}
	s.recs[st] = r
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.recs[st] == r {
			delete(s.recs, st)
		}
		s.mu.Unlock()
	}()
	cam, err := s.c.Dir.GetCamera(ctx, st.CameraID)
	if err != nil {
		s.log.Warn("not recording: camera unknown", "camera", st.CameraID, "err", err)
		return
	}
	s.mu.Lock()
	s.off[st.CameraID] = cam.Recording == "off"
	s.mu.Unlock()
	if cam.Recording == "off" {
		return
	}
	err = s.rec.Record(ctx, st)
	if err != nil && !errors.Is(err, record.ErrDraining) && ctx.Err() == nil {
		s.log.Warn("recording ended with an error", "camera", st.CameraID, "err", err)
		// The stream cannot be recorded as it is: keep its place until it
		// ends (or recording is turned off), so that the watch does not
		// start it again every round.
		select {
		case <-st.Done():
		case <-ctx.Done():
		}
	}
}
