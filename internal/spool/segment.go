package spool

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/camcloud/camcloud/internal/store"
)

// Segment is one segment in the spool: open (being written by one writer)
// or closed (queued for upload). Its writing methods (WriteAt, ReadBack,
// Commit, Release, Close) are for its one writer; the uploader reads it.
type Segment struct {
	sp       *Spool
	cam      string
	dataPath string
	idxPath  string
	initPath string
	initHash string
	seg      store.Segment
	bytes    int64 // data + sidecar bytes counted in Spool.bytes

	data, idx *os.File // open while the segment is being written
	uploading bool
	// waiting is set while its uploader waits to retry a failed upload
	// (Backoff): the segment may then be dropped for room like one nobody
	// uploads, and dropped says so to the uploader. Both under Spool.mu.
	waiting, dropped bool

	// Written by the segment's writer only: the end of the last fragment
	// (the next fragment's offset), the end of the data file (beyond
	// written while a fragment is being written) and the end time of the
	// last fragment.
	written int64
	fileEnd int64
	end     time.Time
	// failed is set when a fragment could not be made durable.
	failed atomic.Bool
	// dirSynced is set by the committer once the directory entries are durable.
	dirSynced bool
	// Committer only: synced is the end of the last fragment queued for a
	// commit, uncached where the page cache drops reached (the data file's
	// bytes before it are synced and out of the page cache).
	synced, uncached int64
	// allocated is how far the writer has preallocated the data file
	// (beyond its size, see preallocate); noPrealloc is set when the file
	// system cannot.
	allocated  int64
	noPrealloc bool
}

// SegmentKey is the object key of a segment: cam/<id>/<YYYY>/<MM>/<DD>/<start µs>.m4s (UTC).
func SegmentKey(cam string, start time.Time) string {
	u := start.UTC()
	return fmt.Sprintf("cam/%s/%04d/%02d/%02d/%d.m4s", cam, u.Year(), int(u.Month()), u.Day(), start.UnixMicro())
}

// InitKey is the object key of an init segment: cam/<id>/init/<hash>.mp4.
func InitKey(cam, hash string) string {
	return "cam/" + cam + "/init/" + hash + ".mp4"
}

func (s *Spool) camDir(cam string) string { return filepath.Join(s.cfg.Dir, cam) }

// Open creates the spool files of a new segment of camera cam starting at
// start (the wall-clock time of its first sample), with the given init
// segment, its content hash (which names it) and its codec string. Its
// start is bumped by a microsecond at a time while another segment of the
// camera has it.
func (s *Spool) Open(cam string, start time.Time, init []byte, hash, codec string) (*Segment, error) {
	if err := ValidCameraID(cam); err != nil {
		return nil, err
	}
	dir := s.camDir(cam)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	initPath := filepath.Join(dir, hash+".init")
	// Take the reference first so that removeFiles cannot delete the file
	// between its write and the segment's registration.
	s.mu.Lock()
	s.initRefs[initPath]++
	s.mu.Unlock()
	ok := false
	defer func() {
		if !ok {
			s.mu.Lock()
			s.releaseInitLocked(initPath)
			s.mu.Unlock()
		}
	}()
	if err := writeFileSync(initPath, init); err != nil {
		return nil, fmt.Errorf("spooling init segment: %w", err)
	}
	start = start.Truncate(time.Microsecond)
	var data *os.File
	var dataPath string
	// Two publishes of one camera may start in the same microsecond: bump.
	for i := 0; ; i++ {
		dataPath = filepath.Join(dir, strconv.FormatInt(start.UnixMicro(), 10)+".m4s")
		// Read-write and not O_APPEND: a fragment's header is written after
		// its payload, into room left for it.
		f, err := os.OpenFile(dataPath, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
		if err == nil {
			data = f
			break
		}
		if !errors.Is(err, fs.ErrExist) || i >= 100 {
			return nil, err
		}
		start = start.Add(time.Microsecond)
	}
	sg := &Segment{
		sp:       s,
		cam:      cam,
		dataPath: dataPath,
		idxPath:  dataPath[:len(dataPath)-len(".m4s")] + ".idx",
		initPath: initPath,
		initHash: hash,
		data:     data,
		seg: store.Segment{
			CameraID: cam,
			Start:    start,
			End:      start,
			Key:      SegmentKey(cam, start),
			InitKey:  InitKey(cam, hash),
			Codec:    codec,
		},
	}
	hdr := encodeHeader(sidecarHeader{V: sidecarVersion, Camera: cam, Start: start.UnixMicro(), Init: hash, Codec: codec})
	idx, err := os.OpenFile(sg.idxPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o640)
	if err == nil {
		sg.idx = idx
		_, err = idx.Write(hdr) // synced by the first commit, with the directory
	}
	if err != nil {
		sg.closeFiles()
		os.Remove(sg.dataPath)
		os.Remove(sg.idxPath)
		return nil, fmt.Errorf("creating spool segment: %w", err)
	}
	ok = true
	s.mu.Lock()
	s.open[sg] = struct{}{}
	s.known[sg.dataPath] = true
	sg.bytes = int64(len(hdr))
	s.setBytesLocked(sg.bytes)
	s.mu.Unlock()
	return sg, nil
}

// WriteAt writes b at off in the segment's data file, taking spool room for
// the bytes by which it grows the file, and returns that room: the writer
// gives it back with Release when the bytes will not be committed, or
// hands it to Commit.
func (sg *Segment) WriteAt(b []byte, off int64) (int64, error) {
	if sg.failed.Load() {
		return 0, ErrCommitFailed
	}
	grow := max(0, off+int64(len(b))-sg.fileEnd)
	if grow > 0 && !sg.sp.reserve(grow) {
		return 0, ErrFull
	}
	sg.preallocate(off + int64(len(b)))
	if _, err := sg.data.WriteAt(b, off); err != nil {
		sg.Release(grow)
		return 0, fmt.Errorf("writing spool: %w", err)
	}
	sg.fileEnd += grow
	return grow, nil
}

// ReadBack reads back len(b) bytes at off of the segment's data file.
func (sg *Segment) ReadBack(b []byte, off int64) error {
	if _, err := sg.data.ReadAt(b, off); err != nil {
		return fmt.Errorf("reading spool: %w", err)
	}
	return nil
}

// Commit queues the fragment f (frames access units), whose bytes are
// written and took taken bytes of spool room, for the group commit, which
// syncs it and only then writes its sidecar line and counts it (see
// commit.go). f.Start is relative to the segment's start.
func (sg *Segment) Commit(f store.Fragment, frames int, taken int64) error {
	line := encodeFragment(f)
	if !sg.sp.reserve(int64(len(line))) {
		sg.Release(taken)
		return ErrFull
	}
	sg.written = f.Offset + f.Size
	sg.end = sg.seg.Start.Add(f.Start + f.Duration)
	sg.sp.enqueue(commitEntry{sg: sg, frag: f, line: line, bytes: taken + int64(len(line)), frames: frames})
	return nil
}

// Release gives back n bytes of spool room taken by writes (WriteAt) that
// will not be committed.
func (sg *Segment) Release(n int64) {
	if n == 0 {
		return
	}
	sg.sp.mu.Lock()
	sg.sp.setBytesLocked(-n)
	sg.sp.mu.Unlock()
}

// Written is where the segment's last committed fragment ends: the next
// fragment's offset.
func (sg *Segment) Written() int64 { return sg.written }

// End is the wall-clock time the segment's last committed fragment ends.
func (sg *Segment) End() time.Time { return sg.end }

// reserve makes room for n more spool bytes, dropping the oldest queued
// segments if needed. It reports false when the room cannot be made.
func (s *Spool) reserve(n int64) bool {
	if s.tryReserve(n) {
		return true
	}
	// Segments closed but not yet committed cannot be dropped: commit them.
	s.Flush()
	if s.tryReserve(n) {
		return true
	}
	s.m.Dropped.Inc()
	s.mu.Lock()
	open, queued := len(s.open), len(s.queue)
	s.mu.Unlock()
	s.log.Error("spool full and nothing left to drop: dropping new video "+
		"(max_spool_bytes must hold at least one segment per camera being recorded)",
		"bytes", n, "max_spool_bytes", s.cfg.MaxBytes, "open_segments", open, "queued_segments", queued)
	return false
}

// tryReserve is reserve without the commit.
func (s *Spool) tryReserve(n int64) bool {
	var victims []*Segment
	s.mu.Lock()
	for s.bytes+n > s.cfg.MaxBytes {
		i := 0
		for i < len(s.queue) && s.queue[i].uploading && !s.queue[i].waiting {
			i++
		}
		if i == len(s.queue) {
			break
		}
		v := s.queue[i]
		s.queue = append(s.queue[:i], s.queue[i+1:]...)
		s.forgetLocked(v)
		v.dropped = true
		victims = append(victims, v)
	}
	ok := s.bytes+n <= s.cfg.MaxBytes
	if ok {
		s.setBytesLocked(n)
	}
	if len(victims) > 0 {
		s.notifyLocked()
	}
	s.mu.Unlock()
	for _, v := range victims {
		s.m.Dropped.Inc()
		s.log.Error("spool full: dropped the oldest segment waiting for upload",
			"camera", v.cam, "start", v.seg.Start, "bytes", v.bytes, "max_spool_bytes", s.cfg.MaxBytes)
		s.removeFiles(v)
		if s.cfg.OnDrop != nil {
			s.cfg.OnDrop(v.cam, v.seg.Start, v.seg.End)
		}
	}
	return ok
}

// Close ends an open segment: once its fragments are committed, the
// committer closes its files and queues it for upload, or deletes it when
// it holds no fragment. The writer must not use sg afterwards.
func (sg *Segment) Close() {
	if err := sg.trim(); err != nil {
		sg.sp.log.Warn("cannot free the blocks preallocated past a spooled segment", "path", sg.dataPath, "err", err)
	}
	sg.sp.enqueue(commitEntry{sg: sg, close: true})
}

// forgetLocked removes sg from the accounting (not from open or queue).
// s.mu is held.
func (s *Spool) forgetLocked(sg *Segment) {
	delete(s.known, sg.dataPath)
	s.setBytesLocked(-sg.bytes)
	s.releaseInitLocked(sg.initPath)
}

func (s *Spool) releaseInitLocked(path string) {
	s.initRefs[path]--
	if s.initRefs[path] <= 0 {
		delete(s.initRefs, path)
	}
}

// removeFiles deletes a segment's spool files, and its init file when no
// other spooled segment uses it.
func (s *Spool) removeFiles(sg *Segment) {
	sg.closeFiles()
	for _, p := range []string{sg.dataPath, sg.idxPath} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("removing spool file", "path", p, "err", err)
		}
	}
	s.mu.Lock()
	unused := s.initRefs[sg.initPath] == 0
	if unused {
		// Removed under the lock so that Open cannot count on it meanwhile.
		os.Remove(sg.initPath)
	}
	s.mu.Unlock()
}

// preallocChunk is how much of a data file is allocated ahead of the
// writes: about 16 s of a 2 Mbit/s camera.
const preallocChunk = 4 << 20

// preallocate makes sure the data file's blocks up to end are allocated,
// in preallocChunk steps past the file's size (fallocate(2) with
// FALLOC_FL_KEEP_SIZE, so the size still says where the data ends).
//
// Why: hundreds of cameras append to hundreds of files at once. Allocated
// as written, every 4 KiB block of every write goes through the file
// system's delayed allocation, and the files' blocks interleave on disk;
// allocated 4 MiB at a time, writes fill blocks that already exist and
// each file lies in large extents. Measured (100 files, 25 KiB writes,
// synced and dropped from the cache as the committer does): 4.1-4.4 s of
// CPU per 2 GiB instead of 5.0-6.1 s (docs/benchmarks.md). The blocks
// allocated past the end are freed when the segment closes (trim).
// Called by the segment's writer only.
func (sg *Segment) preallocate(end int64) {
	if end <= sg.allocated || sg.noPrealloc {
		return
	}
	from := max(sg.allocated, sg.fileEnd)
	n := (end - from + preallocChunk - 1) / preallocChunk * preallocChunk
	if err := allocate(sg.data, from, n); err != nil {
		sg.noPrealloc = true // unsupported here: write as before
		return
	}
	sg.allocated = from + n
}

// trim frees the blocks preallocated past the data file's end (truncating
// a file to its own size does), before the segment is closed and stored.
// Called by the segment's writer only.
func (sg *Segment) trim() error {
	if sg.allocated <= sg.fileEnd {
		return nil
	}
	return sg.data.Truncate(sg.fileEnd)
}

func (sg *Segment) closeFiles() {
	if sg.data != nil {
		sg.data.Close()
		sg.data = nil
	}
	if sg.idx != nil {
		sg.idx.Close()
		sg.idx = nil
	}
}
