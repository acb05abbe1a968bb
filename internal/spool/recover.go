package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/fmp4"
	"github.com/camcloud/camcloud/internal/store"
)

// maxSidecarBytes bounds the sidecar read on recovery.
const maxSidecarBytes = 32 << 20

// Recover finds segments left in the spool by an earlier process (crashed
// or stopped before uploading), cuts each back to its last complete
// fragment (a torn tail of the data file, a half-written sidecar line) and
// queues them for upload, oldest first. Call it at start, before recording;
// segments this Spool is writing or has queued are left alone. Spool
// files that hold nothing recoverable are deleted.
func (s *Spool) Recover(ctx context.Context) error {
	cams, err := os.ReadDir(s.cfg.Dir)
	if err != nil {
		return fmt.Errorf("spool: reading the directory: %w", err)
	}
	var found []*Segment
	for _, c := range cams {
		if !c.IsDir() || ValidCameraID(c.Name()) != nil {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		found = append(found, s.recoverCamera(c.Name())...)
	}
	sort.Slice(found, func(i, j int) bool { return found[i].seg.Start.Before(found[j].seg.Start) })
	s.mu.Lock()
	s.queue = append(found, s.queue...)
	s.notifyLocked()
	s.mu.Unlock()
	if len(found) > 0 {
		s.log.Info("recovered spooled segments", "segments", len(found))
	}
	return nil
}

// recoverCamera recovers one camera's spool directory and removes its
// leftovers: temporary files, data files without a sidecar, unused inits.
func (s *Spool) recoverCamera(cam string) []*Segment {
	dir := s.camDir(cam)
	entries, err := os.ReadDir(dir)
	if err != nil {
		s.log.Warn("reading spool directory", "dir", dir, "err", err)
		return nil
	}
	names := map[string]bool{}
	for _, e := range entries {
		names[e.Name()] = true
	}
	var out []*Segment
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(dir, name)
		switch {
		case strings.HasSuffix(name, ".tmp"):
			os.Remove(path)
		case strings.HasSuffix(name, ".m4s"):
			if !names[strings.TrimSuffix(name, ".m4s")+".idx"] && !s.isKnown(path) {
				s.log.Warn("removing a spool data file without its sidecar", "path", path)
				os.Remove(path)
			}
		case strings.HasSuffix(name, ".idx"):
			dataPath := strings.TrimSuffix(path, ".idx") + ".m4s"
			if s.isKnown(dataPath) {
				continue
			}
			sg, err := s.recoverSegment(cam, path, dataPath)
			if err != nil {
				s.log.Error("cannot recover a spooled segment", "path", dataPath, "err", err)
				continue
			}
			if sg != nil {
				out = append(out, sg)
			}
		}
	}
	// Inits no spooled segment refers to any more.
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if strings.HasSuffix(e.Name(), ".init") && s.initRefs[p] == 0 {
			os.Remove(p)
		}
	}
	return out
}

func (s *Spool) isKnown(dataPath string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.known[dataPath]
}

// recoverSegment validates one spooled segment, truncates it to its last
// complete fragment and registers it. It returns nil (and deletes the files)
// when nothing in it can be recovered.
func (s *Spool) recoverSegment(cam, idxPath, dataPath string) (*Segment, error) {
	discard := func(why string) (*Segment, error) {
		s.log.Warn("discarding a spooled segment with nothing to recover", "path", dataPath, "why", why)
		os.Remove(dataPath)
		os.Remove(idxPath)
		return nil, nil
	}
	b, err := readFileMax(idxPath, maxSidecarBytes)
	if err != nil {
		return nil, err
	}
	sc, err := parseSidecar(b)
	if err != nil {
		return discard(err.Error())
	}
	h := sc.Header
	if h.Camera != cam {
		return nil, fmt.Errorf("sidecar names camera %q", h.Camera)
	}
	f, err := os.OpenFile(dataPath, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return discard("no data file")
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	frags, end := completeFragments(f, st.Size(), sc.Fragments)
	if len(frags) == 0 {
		f.Close()
		return discard("no complete fragment")
	}
	// Truncated even at its own size: that frees blocks preallocated past
	// the end (Segment.preallocate).
	if err := f.Truncate(end); err != nil {
		return nil, err
	}
	if end != st.Size() {
		if err := datasync(f); err != nil {
			return nil, err
		}
	}
	idx := encodeHeader(h)
	for _, fr := range frags {
		idx = append(idx, encodeFragment(fr)...)
	}
	if !bytes.Equal(idx, b) {
		if err := replaceFileSync(idxPath, idx); err != nil {
			return nil, err
		}
	}
	initPath := filepath.Join(s.camDir(cam), h.Init+".init")
	if _, err := os.Stat(initPath); err != nil {
		return nil, fmt.Errorf("its init segment: %w", err)
	}
	start := time.UnixMicro(h.Start)
	last := frags[len(frags)-1]
	sg := &Segment{
		sp:       s,
		cam:      cam,
		dataPath: dataPath,
		idxPath:  idxPath,
		initPath: initPath,
		initHash: h.Init,
		bytes:    end + int64(len(idx)),
		seg: store.Segment{
			CameraID:  cam,
			Start:     start,
			End:       start.Add(last.Start + last.Duration),
			Size:      end,
			Key:       SegmentKey(cam, start),
			InitKey:   InitKey(cam, h.Init),
			Codec:     h.Codec,
			Fragments: frags,
		},
	}
	s.mu.Lock()
	s.known[dataPath] = true
	s.initRefs[initPath]++
	s.setBytesLocked(sg.bytes)
	s.mu.Unlock()
	if dropped := len(sc.Fragments) - len(frags); dropped > 0 || end != st.Size() {
		s.log.Warn("recovered a torn spooled segment", "path", dataPath, "fragments", len(frags),
			"dropped_fragments", dropped, "dropped_bytes", st.Size()-end)
	}
	return sg, nil
}

// completeFragments returns the leading fragments of the table that are
// contiguous from offset 0 and present whole in the data (a moof then an
// mdat box filling exactly the recorded size), and where they end.
func completeFragments(data io.ReaderAt, size int64, table []store.Fragment) ([]store.Fragment, int64) {
	var end int64
	for i, f := range table {
		if f.Offset != end || f.Size > size-end || fmp4.CheckFragment(data, f.Offset, f.Size) != nil {
			return table[:i], end
		}
		end += f.Size
	}
	return table, end
}
