package playback

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"time"

	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/usage"
	"github.com/camcloud/camcloud/internal/zone"
)

// Bounds on still images.
const (
	maxFFmpeg      = 4                // concurrent ffmpeg processes per node
	ffmpegTimeout  = 15 * time.Second // one decode
	maxImageBytes  = 8 << 20          // JPEG output
	maxStderrBytes = 4 << 10
)

// image answers GET /api/v1/cameras/{id}/image?at: the keyframe at or
// before at, decoded to JPEG by ffmpeg.
func (s *Service) image(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	cam, z, err := s.camera(r, rq, authz.PermPlayback)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	at, err := parseTime(r, "at", time.Time{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if s.d.FFmpeg == "" {
		s.fail(w, r, httpapi.Errorf(http.StatusNotImplemented, "not_implemented", "images need ffmpeg, which is not installed on this server"))
		return
	}
	seg, objs, err := s.segmentAt(r.Context(), z, cam, at, rq.User.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	frag, fragAt := keyFragmentAt(&seg, at)
	init, err := readInit(r.Context(), objs, seg.InitKey)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.record(r, rq, "media.image", "camera:"+cam.ID, cam.OrgID, cam.ID, fragAt.Format(time.RFC3339Nano))
	jpeg, err := s.decode(r.Context(), objs, init, &seg, frag)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/jpeg")
	h.Set("Content-Length", strconv.Itoa(len(jpeg)))
	h.Set("Cache-Control", "private, max-age=3600")
	h.Set("X-Camcloud-Image-Time", fragAt.UTC().Format(time.RFC3339Nano))
	w.WriteHeader(http.StatusOK)
	_, _ = s.egress(w, cam, usage.EgressImage, "").Write(jpeg)
}

// segmentAt returns cam's segment holding at: the index row, else a
// segment its holder still spools (waiting, when at is about now, until
// the fragment holding it is committed); with what to read it through.
func (s *Service) segmentAt(ctx context.Context, z *zone.Zone, cam store.Camera, at time.Time, subject string) (store.Segment, objects, error) {
	seg, err := z.DB.SegmentAt(ctx, cam.ID, at)
	if err == nil && at.Before(seg.End) {
		return seg, z.Blobs, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Segment{}, nil, err
	}
	rs := s.recent(ctx, cam, at, at.Add(time.Microsecond), subject, true)
	for i := len(rs.segs) - 1; i >= 0; i-- {
		if sg := rs.segs[i]; !sg.Start.After(at) && at.Before(sg.End) {
			return sg, &recentObjects{blobs: z.Blobs, src: rs.src}, nil
		}
	}
	return store.Segment{}, nil, httpapi.Errorf(http.StatusNotFound, "not_found", "nothing is recorded at %s", at.Format(time.RFC3339Nano))
}

// keyFragmentAt returns the last keyframe fragment of seg starting at or
// before at (the first fragment when none does), and its wall-clock time.
func keyFragmentAt(seg *store.Segment, at time.Time) (store.Fragment, time.Time) {
	frags := fragmentsOf(seg)
	best := frags[0]
	for _, f := range frags {
		if seg.Start.Add(f.Start).After(at) {
			break
		}
		if f.Key {
			best = f
		}
	}
	return best, seg.Start.Add(best.Start)
}

// decode runs ffmpeg on init + the fragment and returns its first video
// frame as JPEG.
func (s *Service) decode(ctx context.Context, st objects, init []byte, seg *store.Segment, f store.Fragment) ([]byte, error) {
	select {
	case s.ffmpegs <- struct{}{}:
		defer func() { <-s.ffmpegs }()
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(ffmpegTimeout):
		return nil, httpapi.Errorf(http.StatusServiceUnavailable, "busy", "too many images are being made; try again")
	}
	rc, err := st.GetRange(ctx, seg.Key, f.Offset, f.Size)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return runFFmpeg(ctx, s.d.FFmpeg, io.MultiReader(bytes.NewReader(init), rc))
}

// limitedBuffer keeps at most max bytes and remembers it overflowed.
type limitedBuffer struct {
	buf      bytes.Buffer
	max      int
	overflow bool
}

// Write stores p, or as much of it as fits.
func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); len(p) > room {
		l.buf.Write(p[:max(room, 0)])
		l.overflow = true
		return len(p), nil
	}
	return l.buf.Write(p)
}

// runFFmpeg feeds in to ffmpeg and returns one JPEG frame.
func runFFmpeg(ctx context.Context, bin string, in io.Reader) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, ffmpegTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-hide_banner", "-loglevel", "error", "-nostdin",
		"-f", "mp4", "-i", "pipe:0", "-frames:v", "1", "-f", "image2", "-c:v", "mjpeg", "pipe:1")
	out := &limitedBuffer{max: maxImageBytes}
	errb := &limitedBuffer{max: maxStderrBytes}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, out, errb
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("ffmpeg: %w", ctx.Err())
	case out.overflow:
		return nil, fmt.Errorf("ffmpeg: image larger than %d bytes", maxImageBytes)
	case !bytes.HasPrefix(out.buf.Bytes(), []byte{0xff, 0xd8}):
		return nil, fmt.Errorf("ffmpeg made no image: %v: %s", err, bytes.TrimSpace(errb.buf.Bytes()))
	}
	return out.buf.Bytes(), nil
}
