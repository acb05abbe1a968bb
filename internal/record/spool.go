package record

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

// spoolSeg is one segment in the spool: open (being written by one Record
// session) or closed (queued for upload).
type spoolSeg struct {
	cam      string
	dataPath string
	idxPath  string
	initPath string
	initHash string
	seg      store.Segment
	bytes    int64 // data + sidecar bytes counted in Recorder.spoolBytes

	data, idx *os.File // open while the segment is being written
	uploading bool

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

// segmentKey is the object key of a segment: cam/<id>/<YYYY>/<MM>/<DD>/<start µs>.m4s (UTC).
func segmentKey(cam string, start time.Time) string {
	u := start.UTC()
	return fmt.Sprintf("cam/%s/%04d/%02d/%02d/%d.m4s", cam, u.Year(), int(u.Month()), u.Day(), start.UnixMicro())
}

// initKey is the object key of an init segment: cam/<id>/init/<hash>.mp4.
func initKey(cam, hash string) string {
	return "cam/" + cam + "/init/" + hash + ".mp4"
}

func (r *Recorder) camDir(cam string) string { return filepath.Join(r.cfg.SpoolDir, cam) }

// writeFileSync writes b to path atomically (temporary file, fsync, rename,
// directory fsync), unless path already exists.
func writeFileSync(path string, b []byte) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	return replaceFileSync(path, b)
}

// replaceFileSync writes b to path atomically: temporary file, fsync,
// rename, directory fsync.
func replaceFileSync(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// openSegment creates the spool files of a new segment starting at start
// (the wall-clock time of its first sample), with the given init segment.
func (r *Recorder) openSegment(cam string, start time.Time, init []byte, hash, codec string) (*spoolSeg, error) {
	dir := r.camDir(cam)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	initPath := filepath.Join(dir, hash+".init")
	// Take the reference first so that removeFiles cannot delete the file
	// between its write and the segment's registration.
	r.mu.Lock()
	r.initRefs[initPath]++
	r.mu.Unlock()
	ok := false
	defer func() {
		if !ok {
			r.mu.Lock()
			r.releaseInitLocked(initPath)
			r.mu.Unlock()
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
		// its payload, into room left for it (see writer.stageLead).
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
	sg := &spoolSeg{
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
			Key:      segmentKey(cam, start),
			InitKey:  initKey(cam, hash),
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
	r.mu.Lock()
	r.open[sg] = struct{}{}
	r.known[sg.dataPath] = true
	sg.bytes = int64(len(hdr))
	r.setSpoolBytesLocked(sg.bytes)
	r.mu.Unlock()
	return sg, nil
}

// writeData writes b at off in an open segment's data file, taking spool
// room for the bytes by which it grows the file, and returns that room.
// It is called by the segment's writer only.
func (r *Recorder) writeData(sg *spoolSeg, b []byte, off int64) (int64, error) {
	if sg.failed.Load() {
		return 0, errCommitFailed
	}
	grow := max(0, off+int64(len(b))-sg.fileEnd)
	if grow > 0 && !r.reserve(grow) {
		return 0, errSpoolFull
	}
	sg.preallocate(off + int64(len(b)))
	if _, err := sg.data.WriteAt(b, off); err != nil {
		r.releaseSpool(grow)
		return 0, fmt.Errorf("writing spool: %w", err)
	}
	sg.fileEnd += grow
	return grow, nil
}

// readData reads back len(b) bytes at off of an open segment's data file.
func (r *Recorder) readData(sg *spoolSeg, b []byte, off int64) error {
	if _, err := sg.data.ReadAt(b, off); err != nil {
		return fmt.Errorf("reading spool: %w", err)
	}
	return nil
}

// commitFragment queues the fragment f (frames access units), whose bytes
// are written and took taken bytes of spool room, for the group commit,
// which syncs it and only then writes its sidecar line and counts it (see
// commit.go). It is called by the segment's writer only.
func (r *Recorder) commitFragment(sg *spoolSeg, f store.Fragment, frames int, taken int64) error {
	line := encodeFragment(f)
	if !r.reserve(int64(len(line))) {
		r.releaseSpool(taken)
		return errSpoolFull
	}
	sg.written = f.Offset + f.Size
	sg.end = sg.seg.Start.Add(f.Start + f.Duration)
	r.enqueue(commitEntry{sg: sg, frag: f, line: line, bytes: taken + int64(len(line)), frames: frames})
	return nil
}

// releaseSpool gives back n bytes of spool room taken for writes that will
// not be committed.
func (r *Recorder) releaseSpool(n int64) {
	if n == 0 {
		return
	}
	r.mu.Lock()
	r.setSpoolBytesLocked(-n)
	r.mu.Unlock()
}

// reserve makes room for n more spool bytes, dropping the oldest queued
// segments if needed. It reports false when the room cannot be made.
func (r *Recorder) reserve(n int64) bool {
	if r.tryReserve(n) {
		return true
	}
	// Segments closed but not yet committed cannot be dropped: commit them.
	r.flush()
	if r.tryReserve(n) {
		return true
	}
	r.m.spoolDropped.Inc()
	r.mu.Lock()
	open, queued := len(r.open), len(r.queue)
	r.mu.Unlock()
	r.log.Error("spool full and nothing left to drop: dropping new video "+
		"(max_spool_bytes must hold at least one segment per camera being recorded)",
		"bytes", n, "max_spool_bytes", r.cfg.MaxSpoolBytes, "open_segments", open, "queued_segments", queued)
	return false
}

// tryReserve is reserve without the commit.
func (r *Recorder) tryReserve(n int64) bool {
	var victims []*spoolSeg
	r.mu.Lock()
	for r.spoolBytes+n > r.cfg.MaxSpoolBytes {
		i := 0
		for i < len(r.queue) && r.queue[i].uploading {
			i++
		}
		if i == len(r.queue) {
			break
		}
		v := r.queue[i]
		r.queue = append(r.queue[:i], r.queue[i+1:]...)
		r.forgetLocked(v)
		victims = append(victims, v)
	}
	ok := r.spoolBytes+n <= r.cfg.MaxSpoolBytes
	if ok {
		r.setSpoolBytesLocked(n)
	}
	if len(victims) > 0 {
		r.notifyLocked()
	}
	r.mu.Unlock()
	for _, v := range victims {
		r.m.spoolDropped.Inc()
		r.log.Error("spool full: dropped the oldest segment waiting for upload",
			"camera", v.cam, "start", v.seg.Start, "bytes", v.bytes, "max_spool_bytes", r.cfg.MaxSpoolBytes)
		r.removeFiles(v)
	}
	return ok
}

// closeSegment ends an open segment: once its fragments are committed, the
// committer closes its files and queues it for upload, or deletes it when
// it holds no fragment. The writer must not use sg afterwards.
func (r *Recorder) closeSegment(sg *spoolSeg) {
	if err := sg.trim(); err != nil {
		r.log.Warn("cannot free the blocks preallocated past a spooled segment", "path", sg.dataPath, "err", err)
	}
	r.enqueue(commitEntry{sg: sg, close: true})
}

// forgetLocked removes sg from the accounting (not from open or queue).
// r.mu is held.
func (r *Recorder) forgetLocked(sg *spoolSeg) {
	delete(r.known, sg.dataPath)
	r.setSpoolBytesLocked(-sg.bytes)
	r.releaseInitLocked(sg.initPath)
}

func (r *Recorder) releaseInitLocked(path string) {
	r.initRefs[path]--
	if r.initRefs[path] <= 0 {
		delete(r.initRefs, path)
	}
}

// removeFiles deletes a segment's spool files, and its init file when no
// other spooled segment uses it.
func (r *Recorder) removeFiles(sg *spoolSeg) {
	sg.closeFiles()
	for _, p := range []string{sg.dataPath, sg.idxPath} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			r.log.Warn("removing spool file", "path", p, "err", err)
		}
	}
	r.mu.Lock()
	unused := r.initRefs[sg.initPath] == 0
	if unused {
		// Removed under the lock so that openSegment cannot count on it meanwhile.
		os.Remove(sg.initPath)
	}
	r.mu.Unlock()
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
func (sg *spoolSeg) preallocate(end int64) {
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
func (sg *spoolSeg) trim() error {
	if sg.allocated <= sg.fileEnd {
		return nil
	}
	return sg.data.Truncate(sg.fileEnd)
}

func (sg *spoolSeg) closeFiles() {
	if sg.data != nil {
		sg.data.Close()
		sg.data = nil
	}
	if sg.idx != nil {
		sg.idx.Close()
		sg.idx = nil
	}
}
