package playback

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"

	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/blob"
	api "github.com/camcloud/camcloud/internal/httpapi" // named api until clip.go and object.go are next edited
	"github.com/camcloud/camcloud/internal/store"
)

// maxInit bounds an init segment read into memory.
const maxInit = 1 << 20

// clip answers GET /api/v1/cameras/{id}/clip.mp4?from&to: one fragmented
// MP4 file streamed from the store as it is read. It starts at the keyframe
// at or before from and ends with the fragment holding to. When the init
// segment (codec) changes within the range, the clip stops before the
// change; X-Camcloud-Clip-Start and -End tell the wall-clock range it covers.
func (s *Service) clip(w http.ResponseWriter, r *http.Request, rq *api.Request) {
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
	if err := checkRange(from, to, s.d.MaxClip, "a clip"); err != nil {
		s.fail(w, r, err)
		return
	}
	segs, err := listSegments(r.Context(), z, cam.ID, from, to)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	plan, err := planClip(r.Context(), z.Blobs, keyRuns(segs, from, to))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if plan == nil {
		s.fail(w, r, api.Errorf(http.StatusNotFound, "not_found", "nothing is recorded between %s and %s",
			from.Format(time.RFC3339), to.Format(time.RFC3339)))
		return
	}
	s.record(r, rq, "media.export", "camera:"+cam.ID, cam.OrgID, cam.ID,
		fmt.Sprintf("%s..%s", plan.start.Format(time.RFC3339), plan.end.Format(time.RFC3339)))
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
	if err := plan.stream(r.Context(), w, z.Blobs); err != nil {
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
}

// planClip reads the init segment of the first run and keeps the runs up
// to the first init change; nil when there are no runs.
func planClip(ctx context.Context, st blob.Store, runs []run) (*clipPlan, error) {
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
		start: runs[0].start, end: runs[len(runs)-1].end()}
	b, err := readInit(ctx, st, initKey)
	if err != nil {
		return nil, err
	}
	var init fmp4.Init
	if err := init.Unmarshal(bytes.NewReader(b)); err != nil {
		return nil, fmt.Errorf("init segment %s: %w", initKey, err)
	}
	for _, t := range init.Tracks {
		if t.ID <= 0 || t.TimeScale == 0 {
			return nil, fmt.Errorf("init segment %s: track %d has no timescale", initKey, t.ID)
		}
		p.clocks[uint32(t.ID)] = t.TimeScale
		if p.lead == 0 || (t.Codec != nil && t.Codec.IsVideo() && !isVideo(init, p.lead)) {
			p.lead = uint32(t.ID)
		}
	}
	p.init = b
	p.size = int64(len(b))
	for _, rn := range p.runs {
		p.size += rn.size
	}
	return p, nil
}

// isVideo reports whether track id of init is video.
func isVideo(init fmp4.Init, id uint32) bool {
	for _, t := range init.Tracks {
		if uint32(t.ID) == id {
			return t.Codec != nil && t.Codec.IsVideo()
		}
	}
	return false
}

// readInit reads a whole init segment, bounded.
func readInit(ctx context.Context, st blob.Store, key string) ([]byte, error) {
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
func (p *clipPlan) stream(ctx context.Context, w io.Writer, st blob.Store) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.Write(p.init); err != nil {
		return err
	}
	fw := &fragWriter{rb: newRebaser(p.lead, p.clocks)}
	for _, rn := range p.runs {
		if err := fw.copyRun(ctx, bw, st, rn); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// fragWriter copies fragments, rewriting their moof boxes.
type fragWriter struct {
	rb  *rebaser
	buf []byte // moof buffer, reused
}

// copyRun copies the fragments of one run from one ranged read.
func (fw *fragWriter) copyRun(ctx context.Context, w io.Writer, st blob.Store, rn run) error {
	rc, err := st.GetRange(ctx, rn.seg.Key, rn.off, rn.size)
	if err != nil {
		return err
	}
	defer rc.Close()
	for _, f := range rn.frags {
		if err := fw.copyFragment(w, rc, f.Size); err != nil {
			return fmt.Errorf("%s at %d: %w", rn.seg.Key, f.Offset, err)
		}
	}
	return nil
}

// copyFragment copies one moof+mdat pair of size bytes from src to w.
func (fw *fragWriter) copyFragment(w io.Writer, src io.Reader, size int64) error {
	moofSize, hdr, err := readHeader(src, "moof")
	if err != nil {
		return err
	}
	if moofSize > maxMoof || moofSize >= size {
		return fmt.Errorf("%w: moof of %d bytes in a fragment of %d", errBox, moofSize, size)
	}
	if int64(cap(fw.buf)) < moofSize {
		fw.buf = make([]byte, moofSize)
	}
	b := fw.buf[:moofSize]
	n := copy(b, hdr)
	if _, err := io.ReadFull(src, b[n:]); err != nil {
		return err
	}
	if err := fw.rb.rewrite(b); err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return err
	}
	mdatSize, hdr, err := readHeader(src, "mdat")
	if err != nil {
		return err
	}
	if moofSize+mdatSize != size {
		return fmt.Errorf("%w: fragment boxes span %d bytes, the index says %d", errBox, moofSize+mdatSize, size)
	}
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	_, err = io.CopyN(w, src, mdatSize-int64(len(hdr)))
	return err
}

// readHeader reads a box header of the wanted type and returns the box size
// and the header bytes.
func readHeader(src io.Reader, want string) (int64, []byte, error) {
	hdr := make([]byte, 8, 16)
	if _, err := io.ReadFull(src, hdr); err != nil {
		return 0, nil, err
	}
	if string(hdr[4:8]) != want {
		return 0, nil, fmt.Errorf("%w: found %q where %s was expected", errBox, hdr[4:8], want)
	}
	size := uint64(binary.BigEndian.Uint32(hdr))
	if size == 1 {
		hdr = hdr[:16]
		if _, err := io.ReadFull(src, hdr[8:]); err != nil {
			return 0, nil, err
		}
		size = binary.BigEndian.Uint64(hdr[8:])
	}
	if size < uint64(len(hdr)) || size > math.MaxInt64/2 {
		return 0, nil, fmt.Errorf("%w: %s box of size %d", errBox, want, size)
	}
	return int64(size), hdr, nil
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
