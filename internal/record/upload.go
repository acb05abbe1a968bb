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
	"github.com/camcloud/camcloud/internal/spool"
)

// uploader stores the spool's closed segments: the init segment when the
// store lacks it, the segment object, then its index row, each retried
// with backoff; then it deletes the segment from the spool.
type uploader struct {
	spool   *spool.Spool
	store   blob.Store
	index   Index
	log     *slog.Logger
	m       *metrics
	workers int
	backoff time.Duration

	initMu       sync.Mutex
	initUploaded map[string]bool // init object keys known to be in the store
}

func newUploader(cfg Config, sp *spool.Spool, m *metrics, log *slog.Logger) *uploader {
	return &uploader{spool: sp, store: cfg.Store, index: cfg.Index, log: log, m: m,
		workers: cfg.UploadWorkers, backoff: cfg.RetryBackoff, initUploaded: map[string]bool{}}
}

// run uploads with the configured number of workers until ctx ends.
func (u *uploader) run(ctx context.Context) {
	var wg sync.WaitGroup
	for range u.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u.loop(ctx)
		}()
	}
	wg.Wait()
}

func (u *uploader) loop(ctx context.Context) {
	for {
		sg, ch := u.spool.Next()
		if sg == nil {
			select {
			case <-ctx.Done():
				return
			case <-ch:
				continue
			}
		}
		err := u.upload(ctx, sg)
		// Done, or permanently broken: it leaves the queue. Stopped: it
		// stays in the spool for the next start.
		u.spool.Done(sg, err != nil && errors.Is(err, ctx.Err()))
		if err != nil && ctx.Err() != nil {
			return
		}
		if errors.Is(err, errDropped) {
			continue // the spool dropped it for room, and said so
		}
		if err != nil {
			row := sg.Row()
			u.log.Error("dropping a spooled segment that cannot be uploaded", "camera", row.CameraID,
				"start", row.Start, "err", err)
		}
		u.spool.Delete(sg)
	}
}

// errDropped ends the upload of a segment that the spool dropped for room
// while its uploader waited to retry.
var errDropped = errors.New("dropped from the full spool while waiting to retry")

// retrySegment is retry for one of sg's uploads: while it waits between
// attempts the spool may drop sg (see spool.Backoff), which ends it with
// errDropped. The index row is written with plain retry: once the object
// is stored, the segment is no longer droppable.
func (u *uploader) retrySegment(ctx context.Context, sg *spool.Segment, log *slog.Logger, what string, fn func() error) error {
	return u.retryWith(ctx, log, what, fn, func(waiting bool) bool { return u.spool.Backoff(sg, waiting) })
}

// upload stores the segment's init segment (when missing), the segment
// object, then its index row, each retried until it succeeds or ctx ends.
// Only local errors (an unreadable spool file) end it early.
func (u *uploader) upload(ctx context.Context, sg *spool.Segment) error {
	row := sg.Row()
	log := u.log.With("camera", row.CameraID, "key", row.Key)
	if err := u.retrySegment(ctx, sg, log, "upload init segment", func() error { return u.ensureInit(ctx, row.InitKey, sg.InitPath()) }); err != nil {
		return err
	}
	err := u.retrySegment(ctx, sg, log, "upload segment", func() error {
		if fp, ok := u.store.(blob.FilePutter); ok {
			// The data file is synced fragment by fragment and closed.
			err := fp.PutFile(ctx, row.Key, sg.DataPath(), row.Size)
			if errors.Is(err, fs.ErrNotExist) {
				return permanent{err}
			}
			return err
		}
		f, err := os.Open(sg.DataPath())
		if err != nil {
			return permanent{err}
		}
		defer f.Close()
		return u.store.Put(ctx, row.Key, f, row.Size)
	})
	if err != nil {
		return err
	}
	if err := u.retry(ctx, log, "write index row", func() error {
		return u.index.InsertSegment(ctx, row)
	}); err != nil {
		return err
	}
	u.m.segmentsUploaded.Inc()
	u.m.bytesUploaded.Add(float64(row.Size))
	log.Debug("segment uploaded", "bytes", row.Size, "duration", row.End.Sub(row.Start))
	return nil
}

// ensureInit uploads the init segment at path as key unless the store has it.
func (u *uploader) ensureInit(ctx context.Context, key, path string) error {
	u.initMu.Lock()
	done := u.initUploaded[key]
	u.initMu.Unlock()
	if done {
		return nil
	}
	_, err := u.store.Stat(ctx, key)
	if errors.Is(err, blob.ErrNotFound) {
		b, rerr := os.ReadFile(path)
		if rerr != nil {
			return permanent{rerr}
		}
		err = u.store.Put(ctx, key, bytes.NewReader(b), int64(len(b)))
	}
	if err != nil {
		return err
	}
	u.initMu.Lock()
	u.initUploaded[key] = true
	u.initMu.Unlock()
	return nil
}

// permanent marks an error that retrying cannot fix.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// retry calls fn until it succeeds, fails permanently or ctx ends, waiting
// with exponential backoff (with jitter, capped at 10 s) between attempts.
func (u *uploader) retry(ctx context.Context, log *slog.Logger, what string, fn func() error) error {
	return u.retryWith(ctx, log, what, fn, nil)
}

// retryWith is retry that tells backoff (when set) before and after each
// wait, and stops with errDropped when backoff reports the work dropped.
func (u *uploader) retryWith(ctx context.Context, log *slog.Logger, what string, fn func() error, backoff func(waiting bool) bool) error {
	delay := u.backoff
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
		u.m.uploadFailures.Inc()
		log.Warn("failed, will retry", "what", what, "attempt", attempt, "retry_in", delay, "err", err)
		if backoff != nil {
			backoff(true)
		}
		t := time.NewTimer(delay/2 + rand.N(delay/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			if backoff != nil {
				backoff(false)
			}
			return ctx.Err()
		case <-t.C:
		}
		if backoff != nil && backoff(false) {
			return errDropped
		}
		delay = min(delay*2, maxRetryBackoff)
	}
}
