package backfill

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/store"
)

// Config configures a Worker.
type Config struct {
	// Order is the order of the uploads (default oldest first).
	Order Order
	// Schedule is the daily window uploads run in (default always).
	Schedule Schedule
	// Interval is how long the worker waits between two questions to the
	// cloud when there was nothing to upload (default 30 s).
	Interval time.Duration
	// Settle is how old a local segment's end must be before the worker
	// asks the cloud about it (default 3 min): longer than the cloud's own
	// segment duration plus its upload, so that what the live relay
	// brought is indexed in the cloud by then and not sent again.
	Settle time.Duration
}

// Defaults of Config.
const (
	DefaultInterval = 30 * time.Second
	DefaultSettle   = 3 * time.Minute
)

// Index is the ring buffer's segment index (a store.Zone).
type Index interface {
	ListSegments(ctx context.Context, cam string, from, to time.Time, limit int) ([]store.Segment, error)
}

// Worker uploads what the cloud lacks of the ring buffer, one segment at
// a time, and reports what the ring dropped before the cloud had it.
type Worker struct {
	cfg    Config
	cams   []string
	idx    Index
	blobs  blob.Store
	state  *State
	client *Client
	pacer  *Pacer
	log    *slog.Logger
	// up tells whether the uplink is up (the last heartbeat answered).
	up   func() bool
	wake chan struct{}
	// skip holds segments the cloud did not want (it had them, or they
	// were outside a gap) until when they are offered again: a segment
	// /missing keeps reporting is not hashed and offered every round.
	// Only the worker's goroutine uses it.
	skip map[skipKey]time.Time
	// gaps remembers, per camera, the missing ranges the cloud reported,
	// less what was stored since: as backfill fills a gap, what is left of
	// it may become shorter than the cloud reports (it ignores holes under
	// 2 s), and those segments would never be offered. It is kept in the
	// state file (loaded is per camera whether it was read back), so that
	// an agent restarted mid-backfill still offers them. Only the worker's
	// goroutine uses these.
	gaps   map[string][]store.Span
	loaded map[string]bool

	stats counters
}

// counters are the worker's figures since the agent started.
type counters struct {
	uploaded, uploadedBytes, sentBytes   atomic.Int64
	alreadyStored, notMissing, refused   atomic.Int64
	lostSegments, lostBytes, lostReports atomic.Int64
}

// Stats is what the worker did since the agent started.
type Stats struct {
	// Uploaded counts segments stored in the cloud by backfill, with
	// their bytes; SentBytes counts the bytes sent (resent ones too).
	Uploaded, UploadedBytes, SentBytes int64
	// AlreadyStored and NotMissing count segments the cloud did not want
	// (it had them; they were outside a gap); Refused counts segments it
	// refused for good (malformed, too large), not sent again.
	AlreadyStored, NotMissing, Refused int64
	// LostSegments and LostBytes count segments the ring buffer dropped
	// before the cloud had them; LostReports the ranges reported.
	LostSegments, LostBytes, LostReports int64
}

// NewWorker makes a worker for the cameras cams of the ring buffer (idx,
// blobs).
func NewWorker(cfg Config, cams []string, idx Index, blobs blob.Store, state *State, client *Client, pacer *Pacer, up func() bool,
	log *slog.Logger) *Worker {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Settle <= 0 {
		cfg.Settle = DefaultSettle
	}
	if cfg.Order == "" {
		cfg.Order = OldestFirst
	}
	return &Worker{cfg: cfg, cams: cams, idx: idx, blobs: blobs, state: state, client: client, pacer: pacer, up: up, log: log,
		wake: make(chan struct{}, 1), skip: map[skipKey]time.Time{}, gaps: map[string][]store.Span{},
		loaded: map[string]bool{}}
}

// Stats reports the worker's figures.
func (w *Worker) Stats() Stats {
	s := &w.stats
	return Stats{Uploaded: s.uploaded.Load(), UploadedBytes: s.uploadedBytes.Load(), SentBytes: s.sentBytes.Load(),
		AlreadyStored: s.alreadyStored.Load(), NotMissing: s.notMissing.Load(), Refused: s.refused.Load(),
		LostSegments: s.lostSegments.Load(), LostBytes: s.lostBytes.Load(), LostReports: s.lostReports.Load()}
}

// Wake makes the worker ask the cloud again now (the uplink came back).
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// errPaused ends a round when the schedule's window closed or the uplink
// went down.
var errPaused = errors.New("backfill: paused")

// Run works until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	for ctx.Err() == nil {
		wait := w.cfg.Interval
		now := time.Now()
		switch {
		case !w.up():
		case !w.cfg.Schedule.Open(now):
			wait = min(w.cfg.Schedule.Next(now).Sub(now)+time.Second, time.Hour)
		default:
			if err := w.reportLost(ctx); err != nil && ctx.Err() == nil {
				w.log.Warn("backfill: reporting dropped segments failed; again later", "err", err)
			}
			busy, err := w.round(ctx)
			if err != nil && !errors.Is(err, errPaused) && ctx.Err() == nil {
				w.log.Warn("backfill: round failed; again later", "err", err)
			}
			if busy && err == nil {
				continue
			}
		}
		select {
		case <-ctx.Done():
		case <-w.wake:
		case <-time.After(wait):
		}
	}
}

// maxPerCamera bounds the local segments one round reads per camera.
const maxPerCamera = 100000

// maxAsk bounds one question to the cloud (its own bound is 31 days).
const maxAsk = 30 * 24 * time.Hour

// round asks the cloud what it lacks of each camera and uploads those
// segments; busy tells whether it sent anything (so that the next round
// follows at once).
func (w *Worker) round(ctx context.Context) (busy bool, err error) {
	var todo []store.Segment
	until := time.Now().Add(-w.cfg.Settle)
	oldest := map[string]time.Time{}
	for _, cam := range w.cams {
		segs, err := w.idx.ListSegments(ctx, cam, until.Add(-maxAsk), until, maxPerCamera)
		if err != nil {
			return false, err
		}
		segs = slices.DeleteFunc(segs, func(s store.Segment) bool { return s.End.After(until) })
		if len(segs) == 0 {
			continue
		}
		oldest[cam] = segs[0].Start
		refused, err := w.state.Refused(ctx, cam)
		if err != nil {
			return false, err
		}
		segs = slices.DeleteFunc(segs, func(s store.Segment) bool { return refused[s.Start.UnixMicro()] })
		r := Range(segs)
		missing, err := w.client.Missing(ctx, cam, r.Start, r.End)
		if err != nil {
			var se *StatusError
			if errors.As(err, &se) && se.Status == 404 {
				w.log.Warn("backfill: the cloud does not list this camera at the site; its video is not uploaded", "camera", cam)
				continue
			}
			return false, err
		}
		if !w.loaded[cam] {
			g, err := w.state.Gaps(ctx, cam)
			if err != nil {
				return false, err
			}
			w.gaps[cam], w.loaded[cam] = Union(w.gaps[cam], g), true
		}
		known := Union(w.gaps[cam], missing)
		// What the ring no longer holds is forgotten.
		known = Subtract(known, time.Time{}, segs[0].Start)
		if len(known) > maxGaps {
			known = known[len(known)-maxGaps:]
		}
		w.remember(ctx, cam, known)
		todo = append(todo, Pick(segs, known, OldestFirst)...)
	}
	slices.SortStableFunc(todo, func(a, b store.Segment) int { return a.Start.Compare(b.Start) })
	if w.cfg.Order == NewestFirst {
		slices.Reverse(todo)
	}
	now := time.Now()
	for k, until := range w.skip {
		if now.After(until) || (!oldest[k.cam].IsZero() && k.start < oldest[k.cam].UnixMicro()) {
			delete(w.skip, k) // expired, or out of the ring
		}
	}
	for _, s := range todo {
		if _, ok := w.skip[skipKey{s.CameraID, s.Start.UnixMicro()}]; ok {
			continue
		}
		if !w.cfg.Schedule.Open(time.Now()) || !w.up() {
			return busy, errPaused
		}
		sent, err := w.upload(ctx, s)
		busy = busy || sent
		var le *localError
		if errors.As(err, &le) {
			w.log.Error("backfill: a local segment cannot be read; left alone for now", "camera", s.CameraID, "start", s.Start, "err", err)
			w.skipped(s)
			continue
		}
		if err != nil {
			return busy, err
		}
	}
	return busy, nil
}

// skipKey names a segment: camera and start.
type skipKey struct {
	cam   string
	start int64
}

// skipFor is how long a segment the cloud did not want is left alone.
const skipFor = 10 * time.Minute

// maxSkip bounds the segments left alone at once.
const maxSkip = 100000

// maxGaps bounds the gaps remembered per camera.
const maxGaps = 1000

// filled forgets s's time from the remembered gaps: the cloud has it now
// (stored, or it said it has it).
func (w *Worker) filled(ctx context.Context, s store.Segment) {
	w.remember(ctx, s.CameraID, Subtract(w.gaps[s.CameraID], s.Start, s.End))
}

// remember sets cam's remembered gaps and, when they changed, writes them
// to the state file; a failed write is logged, and the memory serves
// until the next change writes them again.
func (w *Worker) remember(ctx context.Context, cam string, gaps []store.Span) {
	if slices.EqualFunc(gaps, w.gaps[cam], func(a, b store.Span) bool { return a.Start.Equal(b.Start) && a.End.Equal(b.End) }) {
		return
	}
	w.gaps[cam] = gaps
	if err := w.state.SaveGaps(ctx, cam, gaps); err != nil && ctx.Err() == nil {
		w.log.Warn("backfill: keeping the remembered gaps in the state file failed", "camera", cam, "err", err)
	}
}

// skipped leaves s alone for skipFor.
func (w *Worker) skipped(s store.Segment) { w.skipUntil(s, time.Now().Add(skipFor)) }

// uploaded leaves s alone while the ring holds it: the cloud stored it,
// or found it held every frame of it already. The cloud's index may
// still show a sliver of its time missing (the cloud's and the agent's
// times of one frame differ by the relay's latency), which offering s
// again would not fill.
func (w *Worker) uploaded(s store.Segment) { w.skipUntil(s, time.Now().Add(maxAsk)) }

func (w *Worker) skipUntil(s store.Segment, until time.Time) {
	if len(w.skip) < maxSkip {
		w.skip[skipKey{s.CameraID, s.Start.UnixMicro()}] = until
	}
}
