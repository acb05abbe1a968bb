package playback

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/fmp4"
	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/usage"
	"github.com/camcloud/camcloud/internal/zone"
)

// maxInit bounds an init segment read into memory.
const maxInit = 1 << 20

// clip answers GET /api/v1/cameras/{id}/clip.mp4?from&to: one fragmented
// MP4 file streamed from the store as it is read. It starts at the keyframe
// at or before from and ends with the last frame presented before to (the
// fragment holding to is cut there, see trimTo). When the init
// segment (codec) changes within the range, the clip stops before the
// change; X-Camcloud-Clip-Start and -End tell the wall-clock range it covers.
func (s *Service) clip(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	cam, z, err := s.camera(r, rq, authz.PermExport)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	from, err := parseTime(r, "from", time.Time{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	to, err := parseTime(r, "to", time.Time{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.serveClip(w, r, cam, z, from, to, rq.User.ID, "", func(p *clipPlan) {
		s.record(r, rq, "media.export", "camera:"+cam.ID, cam.OrgID, cam.ID,
			fmt.Sprintf("%s..%s", p.start.Format(time.RFC3339), p.end.Format(time.RFC3339)))
	})
}

// tokenClip answers GET /media/v1/playback/{camera}/clip.mp4?token=: the
// clip of an export token's range (minted for share links that allow
// downloads), as clip does; the link audits it.
func (s *Service) tokenClip(w http.ResponseWriter, r *http.Request) {
	c, cam, z, err := s.tokenCamera(r, authz.PermExport, "share.download", nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.serveClip(w, r, cam, z, c.From, c.To, c.Subject, c.Share, func(*clipPlan) {})
}

// serveClip streams the clip of cam's [from, to) for subject (whose right
// was decided); audit is called once the clip is planned.
func (s *Service) serveClip(w http.ResponseWriter, r *http.Request, cam store.Camera, z *zone.Zone, from, to time.Time, subject, share string, audit func(*clipPlan)) {
	if err := checkRange(from, to, s.d.MaxClip, "a clip"); err != nil {
		s.fail(w, r, err)
		return
	}
	// With wait: a clip of the last seconds gets them once committed.
	segs, objs, _, err := s.segmentsOf(r.Context(), z, cam, from, to, subject, true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	plan, err := planClip(r.Context(), objs, keyRuns(segs, from, to), to)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if plan == nil {
		s.fail(w, r, httpapi.Errorf(http.StatusNotFound, "not_found", "nothing is recorded between %s and %s",
			from.Format(time.RFC3339), to.Format(time.RFC3339)))
		return
	}
	audit(plan)
	h := w.Header()
	h.Set("Content-Type", "video/mp4")
	h.Set("Content-Length", strconv.FormatInt(plan.size, 10))
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": clipName(cam, plan.start)}))
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Camcloud-Clip-Start", plan.start.UTC().Format(time.RFC3339Nano))
	h.Set("X-Camcloud-Clip-End", plan.end.UTC().Format(time.RFC3339Nano))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	s.d.Meter.Add(cam.Zone, cam.OrgID, cam.ID, usage.Exports, 1)
	w = s.egress(w, cam, usage.EgressClip, share)
	if err := plan.stream(r.Context(), w, objs); err != nil {
		// The status is sent; the connection closes short of
		// Content-Length, so the client sees the clip is incomplete.
		s.log.Warn("clip export stopped", "camera", cam.ID, "err", err)
	}
}

// clipPlan is what a clip is made of.
type clipPlan struct {
	init       []byte
	lead       uint32
	clocks     map[uint32]uint32
	runs       []run // merged: one ranged read each
	size       int64
	start, end time.Time
	to         time.Time // the end asked for: the last fragment is cut there
}

// planClip reads the init segment of the first run and keeps the runs up
// to the first init change, ending at to; nil when there are no runs.
func planClip(ctx context.Context, st objects, runs []run, to time.Time) (*clipPlan, error) {
	if len(runs) == 0 {
		return nil, nil
	}
	initKey := runs[0].seg.InitKey
	for i, rn := range runs {
		if rn.seg.InitKey != initKey {
			runs = runs[:i]
			break
		}
	}
	p := &clipPlan{runs: mergeRuns(runs, time.Duration(math.MaxInt64)), clocks: map[uint32]uint32{},
		start: runs[0].start, end: runs[len(runs)-1].end(), to: to}
	if p.end.After(to) {
		p.end = to // within the last frame, which is presented at to
	}
	b, err := readInit(ctx, st, initKey)
	if err != nil {
		return nil, err
	}
	tracks, err := fmp4.ParseInit(b)
	if err != nil {
		return nil, fmt.Errorf("init segment %s: %w", initKey, err)
	}
	leadVideo := false
	for _, t := range tracks {
		if t.ID <= 0 || t.TimeScale == 0 {
			return nil, fmt.Errorf("init segment %s: track %d has no timescale", initKey, t.ID)
		}
		p.clocks[uint32(t.ID)] = t.TimeScale
		if p.lead == 0 || (isVideo(t) && !leadVideo) {
			p.lead, leadVideo = uint32(t.ID), isVideo(t)
		}
	}
	p.init = b
	p.size = int64(len(b))
	for _, rn := range p.runs {
		p.size += rn.size
	}
	return p, nil
}

// isVideo reports whether an init segment's track is video.
func isVideo(t fmp4.InitTrack) bool { return t.Codec != nil && t.Codec.IsVideo() }

// readInit reads a whole init segment, bounded.
func readInit(ctx context.Context, st objects, key string) ([]byte, error) {
	rc, err := st.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxInit+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxInit {
		return nil, fmt.Errorf("init segment %s is over %d bytes", key, maxInit)
	}
	return b, nil
}

// stream writes the init segment, then every fragment with renumbered and
// re-based moof boxes, reading each object range once.
func (p *clipPlan) stream(ctx context.Context, w io.Writer, st objects) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.Write(p.init); err != nil {
		return err
	}
	fw := &fragWriter{rb: newRebaser(p.lead, p.clocks), to: p.to}
	for _, rn := range p.runs {
		if err := fw.copyRun(ctx, bw, st, rn); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// fragWriter copies fragments, rewriting their moof boxes.
type fragWriter struct {
	rb *rebaser
	cp fmp4.Copier
	to time.Time // a fragment running past it is cut there; zero: never
}

// copyRun copies the fragments of one run from one ranged read.
func (fw *fragWriter) copyRun(ctx context.Context, w io.Writer, st objects, rn run) error {
	rc, err := st.GetRange(ctx, rn.seg.Key, rn.off, rn.size)
	if err != nil {
		return err
	}
	defer rc.Close()
	for _, f := range rn.frags {
		start := rn.seg.Start.Add(f.Start)
		var err error
		if !fw.to.IsZero() && start.Add(f.Duration).After(fw.to) {
			err = fw.cp.CopyCut(w, rc, f.Size, fw.trimTo(fw.to.Sub(start)))
		} else {
			err = fw.copyFragment(w, rc, f.Size)
		}
		if err != nil {
			return fmt.Errorf("%s at %d: %w", rn.seg.Key, f.Offset, err)
		}
	}
	return nil
}

// copyFragment copies one moof+mdat pair of size bytes from src to w,
// renumbering and re-basing the moof.
func (fw *fragWriter) copyFragment(w io.Writer, src io.Reader, size int64) error {
	return fw.cp.Copy(w, src, size, fw.rb.rewrite)
}

// trimTo returns a moof rewrite that drops the samples presented from at
// after the fragment's start (its lead track's decode time) on, then
// renumbers and re-bases what is left.
func (fw *fragWriter) trimTo(at time.Duration) func(moof []byte) (int, error) {
	return func(b []byte) (int, error) {
		m, err := fmp4.ParseMoof(b)
		if err != nil {
			return 0, err
		}
		n := len(b)
		for _, t := range m.Trafs {
			if t.TrackID != fw.rb.lead {
				continue
			}
			lead := fw.rb.clocks[fw.rb.lead]
			at := convert(int64(min(max(at, 0), time.Hour)), uint32(time.Second), lead) // ticks from the fragment start
			// A delayed track (see rebaser) ends as much earlier on its
			// own axis, so that it ends at to too.
			n, err = fmp4.Trim(b, func(id uint32) uint64 {
				return uint64(max(0, convert(int64(t.Base)+at, lead, fw.rb.clocks[id])-fw.rb.delayOf(m, id)))
			})
			if err != nil {
				return 0, err
			}
			break
		}
		return n, fw.rb.rewrite(b[:n])
	}
}

// clipName is the download file name: camera name and start time.
func clipName(c store.Camera, start time.Time) string {
	var b strings.Builder
	for _, r := range c.Name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ', r == '.':
			b.WriteByte('-')
		}
		if b.Len() >= 48 {
			break
		}
	}
	name := strings.Trim(b.String(), "-")
	if name == "" {
		name = "camera"
	}
	return name + "_" + start.UTC().Format("20060102T150405Z") + ".mp4"
}
