package record

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/camcloud/camcloud/internal/blob"
)

// Run uploads closed segments with Config.UploadWorkers workers until ctx
// ends. Segments not yet uploaded then stay in the spool for the next start.
func (r *Recorder) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range r.cfg.UploadWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.uploadLoop(ctx)
		}()
	}
	wg.Wait()
}

func (r *Recorder) uploadLoop(ctx context.Context) {
	for {
		sg, ch := r.next()
		if sg == nil {
			select {
			case <-ctx.Done():
				return
			case <-ch:
				continue
			}
		}
		err := r.upload(ctx, sg)
		r.mu.Lock()
		sg.uploading = false
		if err == nil || !errors.Is(err, ctx.Err()) {
			// Done, or permanently broken: take it out of the queue.
			for i, q := range r.queue {
				if q == sg {
					r.queue = append(r.queue[:i], r.queue[i+1:]...)
					break
				}
			}
			r.forgetLocked(sg)
		}
		r.notifyLocked()
		r.mu.Unlock()
		if err != nil && ctx.Err() != nil {
			return // stays in the spool for the next start
		}
		if err != nil {
			r.log.Error("dropping a spooled segment that cannot be uploaded", "camera", sg.cam,
				"start", sg.seg.Start, "err", err)
		}
		r.removeFiles(sg)
	}
}

// next takes the oldest queued segment nobody uploads yet, or returns the
// channel to wait on for a change.
func (r *Recorder) next() (*spoolSeg, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, sg := range r.queue {
		if !sg.uploading {
			sg.uploading = true
			return sg, nil
		}
	}
	return nil, r.changed
}

// upload stores the segment's init segment (when missing), the segment
// object, then its index row, each retried until it succeeds or ctx ends.
// Only local errors (an unreadable spool file) end it early.
func (r *Recorder) upload(ctx context.Context, sg *spoolSeg) error {
	log := r.log.With("camera", sg.cam, "key", sg.seg.Key)
	if err := r.retry(ctx, log, "upload init segment", func() error { return r.ensureInit(ctx, sg) }); err != nil {
		return err
	}
	err := r.retry(ctx, log, "upload segment", func() error {
		if fp, ok := r.cfg.Store.(blob.FilePutter); ok {
			// The data file is synced fragment by fragment and closed.
			err := fp.PutFile(ctx, sg.seg.Key, sg.dataPath, sg.seg.Size)
			if errors.Is(err, fs.ErrNotExist) {
				return permanent{err}
			}
			return err
		}
		f, err := os.Open(sg.dataPath)
		if err != nil {
			return permanent{err}
		}
		defer f.Close()
		return r.cfg.Store.Put(ctx, sg.seg.Key, f, sg.seg.Size)
	})
	if err != nil {
		return err
	}
	if err := r.retry(ctx, log, "write index row", func() error {
		return r.cfg.Index.InsertSegment(ctx, sg.seg)
	}); err != nil {
		return err
	}
	r.m.segmentsUploaded.Inc()
	r.m.bytesUploaded.Add(float64(sg.seg.Size))
	log.Debug("segment uploaded", "bytes", sg.seg.Size, "duration", sg.seg.End.Sub(sg.seg.Start))
	return nil
}

// ensureInit uploads the segment's init segment unless the store has it.
func (r *Recorder) ensureInit(ctx context.Context, sg *spoolSeg) error {
	key := sg.seg.InitKey
	r.initMu.Lock()
	done := r.initUploaded[key]
	r.initMu.Unlock()
	if done {
		return nil
	}
	_, err := r.cfg.Store.Stat(ctx, key)
	if errors.Is(err, blob.ErrNotFound) {
		b, rerr := os.ReadFile(sg.initPath)
		if rerr != nil {
			return permanent{rerr}
		}
		err = r.cfg.Store.Put(ctx, key, bytes.NewReader(b), int64(len(b)))
	}
	if err != nil {
		return err
	}
	r.initMu.Lock()
	r.initUploaded[key] = true
	r.initMu.Unlock()
	return nil
}

// permanent marks an error that retrying cannot fix.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// retry calls fn until it succeeds, fails permanently or ctx ends, waiting
// with exponential backoff (with jitter, capped at 10 s) between attempts.
func (r *Recorder) retry(ctx context.Context, log *slog.Logger, what string, fn func() error) error {
	delay := r.cfg.RetryBackoff
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil {
			return nil
		}
		var p permanent
		if errors.As(err, &p) {
			return fmt.Errorf("%s: %w", what, p.error)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.m.uploadFailures.Inc()
		log.Warn("failed, will retry", "what", what, "attempt", attempt, "retry_in", delay, "err", err)
		t := time.NewTimer(delay/2 + rand.N(delay/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay = min(delay*2, maxRetryBackoff)
	}
}
