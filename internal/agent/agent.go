// Package agent is the edge agent, `camcloud agent`: one process on a site
// that pulls the site's cameras over RTSP on the local network (its own
// allow-list, pull_allow) or takes their RTSP or RTMP pushes (each with
// its own push secret, on listen_rtsp and listen_rtmp), records each one
// at all times into a local ring buffer of fMP4 segments with the camera server's recorder
// (internal/record, hub; a local blob directory and a local SQLite
// index), bounded by size and age with the oldest dropped first, and,
// while the uplink is up, relays each camera live to the cloud over the
// normal ingest path (an RTSP push to the camera's ingest URL). It
// connects only outward: enrolment, heartbeats and the question which
// parts of its cameras' buffered range the cloud lacks (reported as the
// site's backlog) go to the cloud's agent API over HTTPS with the site
// credential. After an outage it backfills what the cloud lacks
// (internal/agent/backfill: resumable uploads under a bandwidth cap shared
// with the live relay, live first) and reports segments the ring dropped
// before the cloud had them as lost (live.go, backfill.go here wire it in).
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/camcloud/camcloud/internal/agent/backfill"
	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/coalesce"
	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/ingest"
	"github.com/camcloud/camcloud/internal/netpolicy"
	"github.com/camcloud/camcloud/internal/record"
	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/store"
)

// Version is what the agent reports as its agent_version.
const Version = "camcloud-agent/1"

// sweepInterval is how often the ring buffer is checked against its bounds.
const sweepInterval = 5 * time.Second

// relayBackoff bounds the wait between two attempts to relay a camera
// (a heartbeat that reaches the cloud again after failing cuts the wait
// short).
const (
	relayMinBackoff = time.Second
	relayMaxBackoff = 5 * time.Second
)

// Agent is a running edge agent.
type Agent struct {
	cfg  Config
	log  *slog.Logger
	idx  store.Zone
	ring *ring
	rec  *record.Recorder
	hub  *hub.Hub
	pull *ingest.Puller
	// push takes the local pushes of cameras with a push secret (nil
	// when none pushes); it is set once Run has opened it.
	push  atomic.Pointer[ingest.Server]
	cloud *cloud
	// bf uploads what the cloud lacks; pacer shares the uplink cap
	// between it and the live relay; live counts the relay's bytes.
	bf     *backfill.Worker
	bstate *backfill.State
	bapi   *backfill.Client
	pacer  *backfill.Pacer
	live   liveMeter
	// relayBufs are the gathering buffers the live relays share.
	relayBufs *coalesce.Buffers
	// back is fired when the uplink comes back (relays retry at once).
	back signal

	// relaying counts the cameras relayed live now; uplinkUp is whether
	// the last heartbeat reached the cloud.
	relaying atomic.Int32
	uplinkUp atomic.Bool
	// lastBacklog is what the cloud lacked at the last heartbeat.
	lastBacklog atomic.Pointer[backlog]
	wg          sync.WaitGroup
}

// New opens the agent's data directory (ring buffer, index, spool) and
// recovers what an earlier process left in its spool.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Agent, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, err
	}
	idx, err := store.OpenZone(ctx, "sqlite:"+filepath.Join(cfg.DataDir, "index.db"), log)
	if err != nil {
		return nil, err
	}
	blobs, err := blob.NewLocal(filepath.Join(cfg.DataDir, "segments"))
	if err != nil {
		_ = idx.Close()
		return nil, err
	}
	a := &Agent{cfg: cfg, log: log, idx: idx, hub: hub.New(), cloud: newCloud(cfg.Cloud, cfg.DataDir), relayBufs: coalesce.NewBuffers(0)}
	a.ring = &ring{idx: idx, blobs: blobs, maxBytes: cfg.BufferMaxBytes, maxAge: cfg.BufferMaxAge, log: log}
	// The spool may take up to half the buffer (the ring counts what it
	// holds): it keeps the open segments and a commit interval of every
	// camera's fragments, about two seconds of video at the defaults.
	a.rec, err = record.New(record.Config{SpoolDir: filepath.Join(cfg.DataDir, "spool"), SegmentDuration: cfg.SegmentDuration, CommitInterval: cfg.CommitInterval,
		MaxSpoolBytes: min(cfg.BufferMaxBytes/2, record.DefaultMaxSpoolBytes), Store: blobs, Index: a.ring, Log: log})
	if err != nil {
		_ = idx.Close()
		return nil, err
	}
	a.ring.spooled = func() int64 { _, n := a.rec.Pending(); return n }
	if err := a.openBackfill(ctx, blobs); err != nil {
		_ = idx.Close()
		return nil, err
	}
	if err := a.rec.Recover(ctx); err != nil {
		_ = idx.Close()
		_ = a.bstate.Close()
		return nil, err
	}
	allow, _ := netpolicy.ParseAllow(cfg.PullAllow) // checked by cfg.Check
	a.pull = ingest.NewPuller(a.hub, nil, log)
	a.pull.Dest = netpolicy.New(allow)
	a.pull.ReadBatch = cfg.ReadBatch
	return a, nil
}

// Run records and relays until ctx ends, then stops the pulls, closes the
// open segments into the ring buffer and returns.
func (a *Agent) Run(ctx context.Context) error {
	defer func() { _ = a.idx.Close(); _ = a.bstate.Close() }()
	rctx, stopUploads := context.WithCancel(context.WithoutCancel(ctx))
	upDone := make(chan struct{})
	go func() { defer close(upDone); a.rec.Run(rctx) }()
	ingestURL := map[string]string{}
	for _, c := range a.cfg.Cameras {
		ingestURL[c.ID] = c.IngestURL
	}
	a.hub.OnPublish(func(s *hub.Stream) {
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			if err := a.rec.Record(ctx, s); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, record.ErrDraining) {
				a.log.Error("agent: recording failed", "camera", s.CameraID, "err", err)
			}
		}()
		if u := ingestURL[s.CameraID]; u != "" {
			a.wg.Add(1)
			go func() { defer a.wg.Done(); a.relay(ctx, s, u) }()
		}
	})
	push, err := a.startPushes()
	if err != nil {
		stopUploads()
		<-upDone
		return err
	}
	a.push.Store(push)
	for _, c := range a.cfg.Cameras {
		if c.URL != "" {
			a.pull.Start(c.ID, c.URL)
		}
	}
	a.wg.Add(4)
	go func() { defer a.wg.Done(); a.sweepLoop(ctx) }()
	go func() { defer a.wg.Done(); a.heartbeatLoop(ctx) }()
	go func() { defer a.wg.Done(); a.live.run(ctx, a.pacer) }()
	go func() { defer a.wg.Done(); a.bf.Run(ctx) }()
	<-ctx.Done()
	if push != nil {
		push.Close()
	}
	a.pull.StopAll()
	a.hub.CloseAll()
	dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = a.rec.Drain(dctx)
	a.wg.Wait()
	stopUploads()
	<-upDone
	return err
}

// relay pushes the stream s to the cloud's ingest at url while it lasts,
// again after each failure (the uplink is down, or the cloud refused).
func (a *Agent) relay(ctx context.Context, s *hub.Stream, url string) {
	wait := relayMinBackoff
	st := a.live.add()
	for {
		start := time.Now()
		a.relaying.Add(1)
		err := sim.Relay(ctx, url, s, st, a.relayBufs)
		a.relaying.Add(-1)
		select {
		case <-ctx.Done():
			return
		case <-s.Done():
			return
		default:
		}
		if time.Since(start) > time.Minute {
			wait = relayMinBackoff
		}
		a.log.Warn("agent: live relay to the cloud stopped; the camera is still recorded locally", "camera", s.CameraID, "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-s.Done():
			return
		case <-a.back.wait():
			wait = relayMinBackoff
			continue
		case <-time.After(wait):
		}
		wait = min(2*wait, relayMaxBackoff)
	}
}

func (a *Agent) sweepLoop(ctx context.Context) {
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		gone, err := a.ring.sweep(ctx, time.Now())
		if err != nil && ctx.Err() == nil {
			a.log.Error("agent: ring buffer sweep failed", "err", err)
		}
		if len(gone) > 0 {
			// To be checked against the cloud and reported as lost.
			if err := a.bstate.AddDropped(context.WithoutCancel(ctx), gone); err != nil {
				a.log.Error("agent: recording dropped segments for the lost report failed", "err", err, "segments", len(gone))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// heartbeatLoop enrols (first start) and reports the buffer to the cloud
// every cfg.Heartbeat; a refused credential is logged at each attempt.
func (a *Agent) heartbeatLoop(ctx context.Context) {
	t := time.NewTicker(a.cfg.Heartbeat)
	defer t.Stop()
	for {
		err := a.heartbeat(ctx)
		if was := a.uplinkUp.Swap(err == nil); err == nil && !was {
			a.back.fire()
			a.bf.Wake()
		}
		if err != nil && ctx.Err() == nil {
			a.log.Warn("agent: heartbeat failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *Agent) heartbeat(ctx context.Context) error {
	if a.cloud.credential() == "" {
		if err := a.cloud.enrol(ctx, a.cfg.EnrolmentToken); err != nil {
			return err
		}
		a.log.Info("agent: enrolled with the cloud", "credential_file", a.cloud.credFile)
	}
	b := a.lastBacklog.Load()
	if b == nil {
		b = &backlog{}
	}
	cams, err := a.cloud.heartbeat(ctx, heartbeatReport{AgentVersion: Version, BufferUsed: a.ring.usage(), BufferMax: a.cfg.BufferMaxBytes,
		BacklogSeconds: b.Covered.Seconds(), BacklogBytes: b.Bytes, UploadBPS: a.pacer.BitsPerSecond()})
	if err != nil {
		return err
	}
	a.warnUnknown(cams)
	// What the cloud lacks, for the next report (the cloud was just
	// reached, so this is likely to answer).
	nb, err := a.measureBacklog(ctx)
	if err != nil {
		return err
	}
	a.lastBacklog.Store(&nb)
	return nil
}

// warnUnknown logs configured cameras that the cloud does not list at
// this site (their video would be refused).
func (a *Agent) warnUnknown(cloudCams []string) {
	known := map[string]bool{}
	for _, id := range cloudCams {
		known[id] = true
	}
	for _, c := range a.cfg.Cameras {
		if !known[c.ID] {
			a.log.Warn("agent: a configured camera is not at this site in the cloud (set its site_id)", "camera", c.ID)
		}
	}
}

// Status is what the agent knows of itself, for tests and logs.
type Status struct {
	BufferUsed int64
	Relaying   int
	UplinkUp   bool
	Dropped    dropStats
	// Backlog is what the cloud lacked of the buffer at the last heartbeat.
	Backlog backlog
	// Backfill is what backfill did (uploads, refusals, lost reports);
	// UploadBPS the uplink use (live and backfill) in bits per second.
	Backfill  backfill.Stats
	UploadBPS int64
}

// Status reports the agent's state now.
func (a *Agent) Status() Status {
	st := Status{BufferUsed: a.ring.usage(), Relaying: int(a.relaying.Load()), UplinkUp: a.uplinkUp.Load(), Dropped: a.ring.drops(),
		Backfill: a.bf.Stats(), UploadBPS: a.pacer.BitsPerSecond()}
	if b := a.lastBacklog.Load(); b != nil {
		st.Backlog = *b
	}
	return st
}

// String names the agent in logs.
func (a *Agent) String() string {
	return fmt.Sprintf("agent(%s, %d cameras)", a.cfg.DataDir, len(a.cfg.Cameras))
}
