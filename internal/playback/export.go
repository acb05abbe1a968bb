package playback

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/camcloud/camcloud/internal/store"
)

// ErrNothingRecorded means a clip's range holds no recording.
var ErrNothingRecorded = errors.New("playback: nothing is recorded in the range")

// ClipInfo describes a clip WriteClip wrote: the wall-clock time of its
// first frame (the keyframe at or before from), the end of its last
// frame (at most to) and its size in bytes.
type ClipInfo struct {
	Start, End time.Time
	Size       int64
}

// WriteClip writes the MP4 clip of cam's [from, to) to w, byte for byte
// what the clip route serves (the same plan and fragment copier), for
// jobs that run without a request (evidence exports). The caller has
// decided that subject (a user id, named in the tokens of the holder's
// spool) may export the camera. progress, when not nil, is told the bytes
// written and the total as the copy goes on. ErrNothingRecorded when the
// range holds no recording.
func (s *Service) WriteClip(ctx context.Context, cam store.Camera, from, to time.Time, subject string, w io.Writer, progress func(done, total int64)) (ClipInfo, error) {
	if err := checkRange(from, to, s.d.MaxClip, "a clip"); err != nil {
		return ClipInfo{}, err
	}
	z, err := s.zoneOf(cam)
	if err != nil {
		return ClipInfo{}, err
	}
	segs, objs, _, err := s.segmentsOf(ctx, z, cam, from, to, subject, true)
	if err != nil {
		return ClipInfo{}, err
	}
	plan, err := planClip(ctx, objs, keyRuns(segs, from, to), to)
	if err != nil {
		return ClipInfo{}, err
	}
	if plan == nil {
		return ClipInfo{}, ErrNothingRecorded
	}
	info := ClipInfo{Start: plan.start.UTC(), End: plan.end.UTC(), Size: plan.size}
	if progress != nil {
		w = &progressWriter{w: w, total: plan.size, fn: progress}
	}
	return info, plan.stream(ctx, w, objs)
}

// progressWriter tells fn how much went through it.
type progressWriter struct {
	w     io.Writer
	n     int64
	total int64
	fn    func(done, total int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.n += int64(n)
	p.fn(p.n, p.total)
	return n, err
}
