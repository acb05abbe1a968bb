package record

import (
	"context"
	"errors"

	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/spool"
)

// readerBuffer is the hub reader's room, in units: about 40 s of 25 fps
// video with AAC, so that a disk stall of a few seconds drops nothing.
const readerBuffer = 2048

// Record records s until it ends (publisher gone or replaced), ctx ends or
// Drain is called; the open segment is then closed and queued for upload.
// Recording starts at the first video keyframe (the first audio frame for an
// audio-only stream). When the recorder falls behind and the hub drops its
// reader, it logs, counts, reattaches and restarts at the next keyframe.
// It returns nil when the stream ended, ctx.Err() when ctx ended, an error
// when the stream cannot be recorded at all, and ErrDraining after Drain.
func (r *Recorder) Record(ctx context.Context, s *hub.Stream) error {
	if err := spool.ValidCameraID(s.CameraID); err != nil {
		return err
	}
	r.mu.Lock()
	if r.draining {
		r.mu.Unlock()
		return ErrDraining
	}
	r.sessions++
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.sessions--
		r.notifyLocked()
		r.mu.Unlock()
	}()

	w := newWriter(r, s)
	if w.lead == nil {
		r.act.failed(s.CameraID, "the stream has no track that can be recorded")
		return errors.New("record: the stream has no track that can be recorded")
	}
	defer func() {
		w.finishSegment(0, false)
		end := w.lastAt // lost until the stream ended
		if end.IsZero() {
			end = r.cfg.Now()
		}
		w.reportLost(end)
	}()
	w.log.Info("recording", "tracks", len(w.tracks), "lead", codecName(w.lead.codec))
	for {
		rd, err := s.NewReader(readerBuffer)
		if err != nil {
			return nil // the stream already ended
		}
		r.readers.Add(1)
		err = r.consume(ctx, rd, w)
		rd.Close()
		r.readers.Add(-1)
		if !errors.Is(err, hub.ErrOverflow) {
			return err
		}
		r.m.overflowDrops.Inc()
		w.log.Warn("recorder fell behind the stream and was dropped: restarting at the next keyframe")
		w.finishSegment(0, false)
		w.lost(w.lastAt, ReasonBehind)
	}
}

// consume feeds the reader's units to w until the reader closes, ctx ends
// or Drain starts.
func (r *Recorder) consume(ctx context.Context, rd *hub.Reader, w *writer) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.drainCh:
			return nil
		case u, ok := <-rd.C():
			if !ok {
				if err := rd.Err(); errors.Is(err, hub.ErrOverflow) {
					return err
				}
				return nil
			}
			r.consumed.Add(1)
			w.handle(u)
			if len(rd.C()) == 0 {
				w.idle()
			}
		}
	}
}
