package exports

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/camcloud/camcloud/internal/events"
	"github.com/camcloud/camcloud/internal/evidence"
	"github.com/camcloud/camcloud/internal/store"
)

// Run runs this node's workers until ctx ends: each claims the oldest
// free job (queued, or running with an expired lease: its node died),
// runs it and looks for the next; one of them also deletes expired
// packages. A job cut off by the end of ctx gives up its lease, so the
// next node restarts it at once.
func (s *Service) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range s.c.Workers {
		wg.Add(1)
		go func() { defer wg.Done(); s.work(ctx, i == 0) }()
	}
	wg.Wait()
}

// work is one worker's loop.
func (s *Service) work(ctx context.Context, sweeper bool) {
	t := time.NewTicker(s.c.ScanInterval)
	defer t.Stop()
	for {
		if sweeper {
			s.sweep(ctx)
		}
		for ctx.Err() == nil {
			now := s.c.Now()
			e, ok, err := s.c.Dir.ClaimExport(ctx, s.c.Node, now.Add(s.c.LeaseTTL), now)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("claiming an export job", "err", err)
				}
				break
			}
			if !ok {
				break
			}
			s.runJob(ctx, e)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
	}
}

// sweep deletes expired packages and their jobs.
func (s *Service) sweep(ctx context.Context) {
	list, err := s.c.Dir.ExpiredExports(ctx, s.c.Now(), 100)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("listing expired exports", "err", err)
		}
		return
	}
	for _, e := range list {
		if e.ObjectKey != "" {
			z, err := s.c.Zones.Get(e.Zone)
			if err != nil {
				continue
			}
			if err := z.Blobs.Delete(ctx, e.ObjectKey); err != nil {
				s.log.Warn("deleting an expired export", "export", e.ID, "err", err)
				continue
			}
		}
		if err := s.c.Dir.DeleteExport(ctx, e.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			s.log.Warn("deleting an expired export job", "export", e.ID, "err", err)
		}
	}
}

// job is one job being run by this node. Its row is changed under mu,
// by the job's goroutine and its lease's heartbeat.
type job struct {
	s    *Service
	mu   sync.Mutex
	e    store.Export
	last time.Time // of the last save
}

// update applies fn (when not nil) to the job and saves it, renewing the
// lease or, when release, giving it up; an error when the lease is lost
// (another node runs the job now: nothing was written).
func (j *job) update(ctx context.Context, fn func(e *store.Export), release bool) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if fn != nil {
		fn(&j.e)
	}
	return j.saveLocked(ctx, release)
}

func (j *job) saveLocked(ctx context.Context, release bool) error {
	now := j.s.c.Now()
	j.e.UpdatedAt, j.last = now, now
	until := now.Add(j.s.c.LeaseTTL)
	if release {
		until = time.Time{}
	}
	err := j.s.c.Dir.SaveExport(context.WithoutCancel(ctx), j.e, j.s.c.Node, until)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("export %s: %w", j.e.ID, errLeaseLost)
	}
	return err
}

// errLeaseLost: another node took the job over.
var errLeaseLost = errors.New("lease lost: another node runs the job")

// progress records per mille done, saving at most every second.
func (j *job) progress(ctx context.Context, pm int) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.e.Progress = min(max(pm, j.e.Progress), 1000)
	if j.s.c.Now().Sub(j.last) < time.Second {
		return nil
	}
	return j.saveLocked(ctx, false)
}

// heartbeat renews the lease every third of it until ctx ends (a step
// such as the watermark may save no progress for longer), and cancels the
// job when the lease is lost.
func (j *job) heartbeat(ctx context.Context, cancel context.CancelFunc) {
	t := time.NewTicker(j.s.c.LeaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := j.update(ctx, nil, false); errors.Is(err, errLeaseLost) {
			j.s.log.Warn("export lease lost: stopping", "export", j.e.ID)
			cancel()
			return
		}
	}
}

// runJob runs e, claimed by this node, to its end.
func (s *Service) runJob(ctx context.Context, e store.Export) {
	j := &job{s: s, e: e}
	log := s.log.With("export", e.ID, "camera", e.CameraID)
	if e.Attempts > MaxAttempts {
		j.fail(ctx, fmt.Errorf("gave up after %d attempts (the nodes running it died)", MaxAttempts))
		return
	}
	if err := j.update(ctx, func(e *store.Export) { e.State, e.Progress, e.Error = store.ExportRunning, 0, "" }, false); err != nil {
		log.Warn("starting an export", "err", err)
		return
	}
	snap := j.e // read by build; the heartbeat writes j.e under j.mu
	jctx, cancel := context.WithCancel(ctx)
	beat := make(chan struct{})
	go func() { defer close(beat); j.heartbeat(jctx, cancel) }()
	err := s.build(jctx, j, snap)
	cancel()
	<-beat
	switch {
	case err == nil:
		log.Info("export ready", "size", j.e.Size)
		s.ready(ctx, j.e)
	case ctx.Err() != nil:
		// This node stops: the next one restarts the job from the start,
		// and this start does not count against MaxAttempts.
		if serr := j.update(ctx, func(e *store.Export) { e.State, e.Progress, e.Attempts = store.ExportQueued, 0, max(0, e.Attempts-1) }, true); serr != nil {
			log.Warn("handing an export back", "err", serr)
		}
	case errors.Is(err, errLeaseLost) || jctx.Err() != nil:
		log.Warn("export taken over by another node", "err", err)
	default:
		log.Warn("export failed", "err", err)
		j.fail(ctx, err)
	}
}

// fail ends the job as failed with err.
func (j *job) fail(ctx context.Context, err error) {
	msg := err.Error()
	if errors.Is(err, ErrNothingRecorded) {
		msg = ErrNothingRecorded.Error()
	}
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	if serr := j.update(ctx, func(e *store.Export) {
		e.State, e.Error, e.ExpiresAt = store.ExportFailed, msg, j.s.c.Now().Add(j.s.c.TTL)
	}, true); serr != nil {
		j.s.log.Warn("failing an export", "export", j.e.ID, "err", serr)
	}
}

// ready tells that e is ready: an export.ready event on its camera.
func (s *Service) ready(ctx context.Context, e store.Export) {
	if s.c.Events == nil {
		return
	}
	detail, _ := json.Marshal(map[string]any{"export_id": e.ID, "from": e.From, "to": e.To, "size": e.Size, "evidence": e.Evidence,
		"created_by": e.CreatedEmail})
	if _, err := s.c.Events.Record(context.WithoutCancel(ctx), events.Event{CameraID: e.CameraID, Type: events.TypeExportReady,
		Source: events.SourceSystem, Detail: detail}); err != nil {
		s.log.Warn("recording export.ready", "export", e.ID, "err", err)
	}
}

// build makes the package of job j (whose row was e when it started) in
// the temporary directory and stores it.
func (s *Service) build(ctx context.Context, j *job, e store.Export) error {
	cam, err := s.c.Dir.GetCamera(ctx, e.CameraID)
	if err != nil {
		return fmt.Errorf("camera: %w", err)
	}
	org, err := s.c.Dir.GetOrg(ctx, e.OrgID)
	if err != nil {
		return fmt.Errorf("organisation: %w", err)
	}
	z, err := s.c.Zones.Get(e.Zone)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp(s.c.TempDir, "export-"+e.ID+"-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	clipPath := filepath.Join(dir, "clip.mp4")
	f, err := os.Create(clipPath)
	if err != nil {
		return err
	}
	share := 900
	if e.Watermark {
		share = 500
	}
	var perr error
	first, end, err := s.c.Clip(ctx, cam, e.From, e.To, e.CreatedBy, f, func(done, total int64) {
		if perr == nil && total > 0 {
			perr = j.progress(ctx, int(done*int64(share)/total))
		}
	})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = perr
	}
	if err != nil {
		return err
	}
	video := clipPath
	if e.Watermark {
		video = filepath.Join(dir, "watermarked.mp4")
		if err := s.watermark(ctx, clipPath, video, first, e.CreatedEmail); err != nil {
			return err
		}
		if err := j.progress(ctx, 900); err != nil {
			return err
		}
	}
	out, ext := video, ".mp4"
	if e.Evidence {
		out, ext = filepath.Join(dir, "package.zip"), ".zip"
		if err := s.pack(ctx, e, cam, org, video, out, first, end); err != nil {
			return err
		}
	}
	sum, size, err := fileSum(out)
	if err != nil {
		return err
	}
	key := "exports/" + e.OrgID + "/" + e.ID + ext
	pf, err := os.Open(out)
	if err != nil {
		return err
	}
	defer pf.Close()
	if err := z.Blobs.Put(ctx, key, pf, size); err != nil {
		return fmt.Errorf("storing the package: %w", err)
	}
	if err := j.update(ctx, func(e *store.Export) {
		e.State, e.Progress, e.ObjectKey, e.Size, e.SHA256 = store.ExportReady, 1000, key, size, sum
		e.ExpiresAt = s.c.Now().Add(s.c.TTL)
	}, true); err != nil {
		_ = z.Blobs.Delete(context.WithoutCancel(ctx), key)
		return err
	}
	return nil
}

// pack writes the evidence package of video to out.
func (s *Service) pack(ctx context.Context, e store.Export, cam store.Camera, org store.Org, video, out string, first, end time.Time) error {
	z, err := s.c.Zones.Get(e.Zone)
	if err != nil {
		return err
	}
	bms, err := z.DB.ListBookmarks(ctx, e.CameraID, e.From, e.To, "", 1000)
	if err != nil {
		return fmt.Errorf("bookmarks: %w", err)
	}
	m := evidence.Manifest{ExportID: e.ID, Camera: evidence.Named{ID: cam.ID, Name: cam.Name}, Organisation: evidence.Named{ID: org.ID, Name: org.Name},
		From: e.From, To: e.To, FirstFrame: first, LastFrameEnd: end, Exporter: evidence.Exporter{UserID: e.CreatedBy, Email: e.CreatedEmail},
		CreatedAt: s.c.Now().UTC().Truncate(time.Second), AuditSeq: e.AuditSeq}
	for _, b := range bms {
		mb := evidence.Bookmark{ID: b.ID, Name: b.Name, Note: b.Note, Start: b.Start}
		if !b.End.IsZero() {
			end := b.End
			mb.End = &end
		}
		m.Bookmarks = append(m.Bookmarks, mb)
	}
	m.Video.Watermarked = e.Watermark
	in, err := os.Open(video)
	if err != nil {
		return err
	}
	defer in.Close()
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if _, err := evidence.Write(f, in, m, s.c.Key.Private()); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// fileSum returns a file's SHA-256 (hex) and size.
func fileSum(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil)), n, err
}
