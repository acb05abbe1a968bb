// Package camserver runs the camera-server role of one zone: ingest into the
// hub, recording of every published camera, camera status, registration and
// heartbeats in the zone DB, leases for pulled cameras, the watch that
// applies camera changes (delete, recording off and on) to the cameras it
// holds, retention, and the ordered drain of a rolling restart.
package camserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/camcloud/camcloud/internal/cameras"
	"github.com/camcloud/camcloud/internal/events"
	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/ingest"
	"github.com/camcloud/camcloud/internal/netpolicy"
	"github.com/camcloud/camcloud/internal/record"
	"github.com/camcloud/camcloud/internal/retention"
	"github.com/camcloud/camcloud/internal/spool"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/usage"
	"github.com/camcloud/camcloud/internal/zone"
)

// Config configures a camera server.
type Config struct {
	ServerID     string
	AdvertiseURL string // base URL api nodes use to reach its live endpoints
	RTSPAddr     string
	RTMPAddr     string
	// UDPRTP and UDPRTCP enable RTSP over UDP when set.
	UDPRTP, UDPRTCP string
	SpoolDir        string

	SegmentDuration  time.Duration
	FragmentDuration time.Duration
	MaxSpoolBytes    int64
	// ReadBatch is the ingest connections' read batching interval; zero
	// reads media as it arrives.
	ReadBatch time.Duration

	PullCapacity int
	LeaseTTL     time.Duration
	// WatchInterval is how often the server polls its zone's camera change
	// token (store.Directory.CameraChanges) to stop a deleted camera's
	// stream, stop or resume recording, or pull a new camera (default 1 s).
	// Every lease round (LeaseTTL/3) also looks, whatever the token says.
	WatchInterval time.Duration
	// PullPolicy decides where pulled cameras may be reached; the server
	// adds its own ingest listeners to it. Nil: public addresses only.
	PullPolicy *netpolicy.Policy

	RetentionInterval time.Duration
	MinFreeBytes      int64

	// Events receives the system events (camera.online, camera.offline,
	// recording.gap, recording.storage); nil: none.
	Events *events.Service
	// OfflineDebounce is how long a camera must stay away before it is
	// offline (camera.offline): a reconnect within it makes no event
	// (default DefaultOfflineDebounce).
	OfflineDebounce time.Duration
	// MediaTimeout drops a publish or pull that sends no media for this
	// long while its connection stays up (default
	// ingest.DefaultMediaTimeout); the offline debounce counts from its
	// last frame.
	MediaTimeout time.Duration

	Dir     store.Directory
	Zone    *zone.Zone
	Cameras *cameras.Service
	Hub     *hub.Hub
	// Meter counts the usage of the cameras held (ingest bytes, recorded
	// time, stored bytes); nil: metering off.
	Meter      *usage.Meter
	Log        *slog.Logger
	Registerer prometheus.Registerer
}

// Server is a running camera server.
type Server struct {
	c       Config
	log     *slog.Logger
	rec     *record.Recorder
	ingest  *ingest.Server
	puller  *ingest.Puller
	sweeper *retention.Sweeper
	pres    *presence

	cancel   context.CancelFunc
	wg       sync.WaitGroup
	recCtx   context.Context
	recStop  context.CancelFunc
	mu       sync.Mutex
	pulled   map[string]string          // camera id -> URL being pulled
	recs     map[*hub.Stream]*recording // running recordings (watch.go)
	off      map[string]bool            // cameras last found with recording off (recstate.go)
	draining bool
}

// New builds the server; Start runs it.
func New(c Config) (*Server, error) {
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = 15 * time.Second
	}
	if c.WatchInterval <= 0 {
		c.WatchInterval = time.Second
	}
	s := &Server{c: c, log: c.Log.With("zone", c.Zone.Name, "server", c.ServerID), pulled: map[string]string{},
		recs: map[*hub.Stream]*recording{}, off: map[string]bool{}}
	s.pres = newPresence(s)
	var err error
	s.rec, err = record.New(record.Config{
		SpoolDir: c.SpoolDir, SegmentDuration: c.SegmentDuration, FragmentDuration: c.FragmentDuration,
		MaxSpoolBytes: c.MaxSpoolBytes, Store: c.Zone.Blobs, Index: usage.RecordIndex(c.Meter, c.Zone.Name, c.Zone.DB), Log: s.log, Registerer: c.Registerer,
		OnSpoolDrop: s.pres.spoolDrop, OnVideoLost: s.pres.lostVideo,
	})
	if err != nil {
		return nil, err
	}
	ev := &statusEvents{s: s}
	s.ingest, err = ingest.NewServer(ingest.Config{RTSPAddr: c.RTSPAddr, RTMPAddr: c.RTMPAddr, UDPRTPAddr: c.UDPRTP, UDPRTCPAddr: c.UDPRTCP, Hub: c.Hub,
		Auth: authorizer{s}, Events: ev, Log: s.log, ReadBatch: c.ReadBatch, MediaTimeout: c.MediaTimeout, Registerer: c.Registerer})
	if err != nil {
		return nil, err
	}
	if c.PullPolicy == nil {
		s.c.PullPolicy = netpolicy.New(nil)
	}
	s.puller = ingest.NewPuller(c.Hub, ev, s.log)
	s.puller.ReadBatch = c.ReadBatch
	s.puller.MediaTimeout = c.MediaTimeout
	s.puller.Dest = s.c.PullPolicy
	if c.Registerer != nil {
		if err := s.puller.RegisterMetrics(c.Registerer); err != nil {
			return nil, err
		}
		if err := c.Registerer.Register(newRecordingStates(s)); err != nil {
			return nil, err
		}
	}
	s.sweeper = retention.New(retention.Config{Zone: c.Zone.Name, Dir: c.Dir, Index: c.Zone.DB, Blobs: c.Zone.Blobs,
		Log: s.log, MinFreeBytes: c.MinFreeBytes, Registerer: c.Registerer, OnDiskPressure: s.pres.diskPressure,
		OnDeleted: usage.DeletedSegments(c.Meter, c.Zone.Name)})
	return s, nil
}

// RTSPAddr and RTMPAddr are the bound ingest addresses.
func (s *Server) RTSPAddr() string { return s.ingest.RTSPAddr() }

// RTMPAddr is the bound RTMP address.
func (s *Server) RTMPAddr() string { return s.ingest.RTMPAddr() }

// Spool is the recorder's spool: what is recorded and not yet uploaded,
// for playback of the newest video (internal/playback's holder routes).
func (s *Server) Spool() *spool.Spool { return s.rec.Spool() }

// ID is this server's name in its zone.
func (s *Server) ID() string { return s.c.ServerID }

// Start recovers the spool, starts ingest, the uploader, the heartbeat, the
// watch of the zone's cameras (leases, changes) and the retention sweeper.
func (s *Server) Start(ctx context.Context) error {
	ctx, s.cancel = context.WithCancel(ctx)
	// Recording outlives ctx's cancel so that Drain can finish segments.
	s.recCtx, s.recStop = context.WithCancel(context.WithoutCancel(ctx))
	if err := s.rec.Recover(ctx); err != nil {
		s.log.Error("spool recovery failed", "err", err)
	}
	s.c.Hub.OnPublish(s.record)
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.rec.Run(s.recCtx) }()
	if err := s.ingest.Start(); err != nil {
		return err
	}
	s.c.PullPolicy.AddSelf(s.RTSPAddr(), s.RTMPAddr(), s.c.UDPRTP, s.c.UDPRTCP)
	s.heartbeat(ctx)
	s.loop(ctx, 5*time.Second, s.heartbeat)
	s.loop(ctx, 5*time.Second, func(context.Context) { s.pres.spool() })
	s.loop(ctx, min(5*time.Second, s.c.LeaseTTL/3), s.pres.sweep)
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.watch(ctx) }()
	if s.c.RetentionInterval > 0 {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.sweeper.Run(ctx, s.c.RetentionInterval) }()
	}
	s.log.Info("camera server started", "rtsp", s.RTSPAddr(), "rtmp", s.RTMPAddr())
	return nil
}

func (s *Server) loop(ctx context.Context, every time.Duration, fn func(context.Context)) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				fn(ctx)
			}
		}
	}()
}

func (s *Server) heartbeat(ctx context.Context) {
	s.mu.Lock()
	draining := s.draining
	s.mu.Unlock()
	err := s.c.Zone.DB.Heartbeat(ctx, store.Server{ID: s.c.ServerID, Addr: s.c.AdvertiseURL, Capacity: s.c.PullCapacity,
		Seen: time.Now().UTC(), Draining: draining})
	if err != nil && ctx.Err() == nil {
		s.log.Warn("heartbeat failed", "err", err)
	}
}

// Drain is the rolling-restart sequence: stop accepting, stop pulling and
// release the leases so other servers take the pulled cameras, drop pushed
// streams so cameras reconnect elsewhere, upload the spool, deregister.
func (s *Server) Drain(ctx context.Context) error {
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
	s.log.Info("draining: no longer accepting cameras")
	s.heartbeat(ctx)
	s.ingest.StopAccepting()
	if s.cancel != nil {
		s.cancel() // heartbeat, lease loop and sweeper stop
	}
	s.puller.StopAll()
	var errs []error
	bg := context.WithoutCancel(ctx)
	// Release the pulled cameras now, not after the upload: the other
	// servers of the zone take them at their next lease round instead of
	// after the spool is uploaded.
	if err := s.c.Zone.DB.ReleaseLeases(bg, s.c.ServerID); err != nil {
		errs = append(errs, fmt.Errorf("release leases: %w", err))
	}
	s.ingest.Close()
	s.c.Hub.CloseAll()
	if err := s.rec.Drain(ctx); err != nil {
		segs, bytes := s.rec.Pending()
		errs = append(errs, fmt.Errorf("spool not fully uploaded (%d segments, %d bytes left for the next start): %w", segs, bytes, err))
	}
	s.recStop()
	s.pres.stop()
	if err := s.c.Zone.DB.SetOffline(bg, s.c.ServerID); err != nil {
		errs = append(errs, fmt.Errorf("mark cameras offline: %w", err))
	}
	if err := s.c.Zone.DB.RemoveServer(bg, s.c.ServerID); err != nil {
		errs = append(errs, fmt.Errorf("deregister: %w", err))
	}
	s.wg.Wait()
	s.log.Info("drained")
	return errors.Join(errs...)
}

// PullFailed records why a pulled camera could not be read; the camera's
// status keeps it until the camera connects.
func (e *statusEvents) PullFailed(cameraID, reason string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.s.c.Zone.DB.NoteOffline(ctx, cameraID, reason, time.Now().UTC()); err != nil {
		e.s.log.Warn("status update failed", "camera", cameraID, "err", err)
	}
}

// authorizer checks a push's secret and that the camera lives in this zone.
type authorizer struct{ s *Server }

func (a authorizer) AuthorizePublish(ctx context.Context, cameraID, secret string) error {
	a.s.mu.Lock()
	draining := a.s.draining
	a.s.mu.Unlock()
	if draining {
		return errors.New("server is draining")
	}
	if err := a.s.c.Cameras.AuthorizePublish(ctx, cameraID, secret); err != nil {
		return err
	}
	cam, err := a.s.c.Dir.GetCamera(ctx, cameraID)
	if err != nil {
		return err
	}
	if cam.Zone != a.s.c.Zone.Name {
		return fmt.Errorf("camera belongs to zone %s, this server to %s", cam.Zone, a.s.c.Zone.Name)
	}
	return nil
}

// statusEvents keeps the zone's camera status current and tells the
// presence of connections and disconnections.
type statusEvents struct{ s *Server }

func (e *statusEvents) Online(cameraID string, info ingest.StreamInfo) {
	e.s.c.Meter.Add(e.s.c.Zone.Name, "", cameraID, usage.IngestBytes, info.Bytes)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	state, reason := e.s.recordingState(cameraID, time.Now())
	err := e.s.c.Zone.DB.PutStatus(ctx, store.CameraStatus{CameraID: cameraID, Online: true, Codec: info.Codec,
		BitrateKbps: info.BitrateKbps, LastSeen: time.Now().UTC(), Server: e.s.c.ServerID,
		Recording: state, RecordingReason: reason, Unrecorded: info.Unrecorded})
	if err != nil {
		e.s.log.Warn("status update failed", "camera", cameraID, "err", err)
	}
	e.s.pres.online(cameraID, info, state, reason)
}

func (e *statusEvents) Offline(cameraID string, lastMedia time.Time) {
	e.s.mu.Lock()
	delete(e.s.off, cameraID) // the next stream reads the camera afresh
	e.s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Only clear the status if this server still holds the camera: it may
	// already have reconnected to another server.
	st, err := e.s.c.Zone.DB.GetStatus(ctx, cameraID)
	if err == nil && st.Server != "" && st.Server != e.s.c.ServerID {
		e.s.pres.offline(cameraID, lastMedia) // its check finds it online elsewhere
		return
	}
	// The camera was last seen when its media last flowed: a stalled
	// publish is dropped seconds after that, and the debounce counts
	// from it.
	now := time.Now().UTC()
	if !lastMedia.IsZero() && lastMedia.Before(now) {
		now = lastMedia.UTC()
	}
	if st.Online || st.OfflineSince.IsZero() {
		st.OfflineSince = now
	}
	st.CameraID, st.Online, st.Server, st.LastSeen = cameraID, false, "", now
	st.Recording, st.RecordingReason, st.Unrecorded = "", "", ""
	st.OfflineReason = "the stream ended (the camera disconnected or stopped sending)"
	if err := e.s.c.Zone.DB.PutStatus(ctx, st); err != nil {
		e.s.log.Warn("status update failed", "camera", cameraID, "err", err)
	}
	e.s.pres.offline(cameraID, now)
}
