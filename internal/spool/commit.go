package spool

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/camcloud/camcloud/internal/store"
)

// Group commit. A camera's writer only write(2)s each fragment into its
// spool data file and hands it to the committer; one committer goroutine
// per Spool then makes a whole batch durable at once: it starts the
// writeback of every dirty data file, fdatasyncs them, appends the
// fragments' sidecar lines, and syncs the sidecars (and the directories of
// new segments) the same way. Only then does a fragment count: it joins its
// segment's fragment table (what is uploaded and indexed) and the frames
// recorded metric. A sidecar line is never written before its fragment's
// data is synced, so recovery, which trusts the sidecar, finds whole
// fragments only.
//
// Why: one fdatasync per fragment per camera serialises every camera on the
// disk (each forces its own journal commit), so a slow disk stalls the
// writers and the hub drops them. Started together, the writebacks land in
// one journal transaction that the batch's first sync commits.
//
// Recovery point: a crash loses the fragment being built (at most the
// recorder's fragment duration, 1 s by default) plus the fragments written
// but not yet committed: at most Config.CommitInterval (100 ms by default, the
// gathering time counted from the start of the previous commit) plus the
// time one commit takes, so about 1.1 s of video with the defaults on a
// healthy disk (camcloud_record_commit_seconds shows the commit time).

// commitBatch starts a commit early when this many entries wait.
const commitBatch = 1024

// commitEntry is one written fragment waiting for its commit, or (when
// close is set) the end of a segment, queued behind its fragments.
type commitEntry struct {
	sg     *Segment
	frag   store.Fragment
	line   []byte // sidecar line of frag
	bytes  int64  // spool bytes of the fragment and its line
	frames int
	close  bool
	ok     bool // set by the commit: durable
}

// committer is the queue between the writers and the commit goroutine,
// which runs while entries are queued and exits when the queue is empty.
type committer struct {
	mu      sync.Mutex
	pending []commitEntry
	spare   []commitEntry // the previous batch's array, reused
	running bool
	kick    chan struct{}
	// queued and committed count entries; done is closed and replaced after
	// every batch, for flush.
	queued, committed uint64
	done              chan struct{}
}

func newCommitter() *committer {
	return &committer{kick: make(chan struct{}, 1), done: make(chan struct{})}
}

// Flush starts a commit at once and waits until every entry queued before
// the call is committed (when the spool is full, closed segments only become
// evictable once committed; a drain commits the last fragments at once).
func (s *Spool) Flush() {
	c := s.commit
	c.mu.Lock()
	target := c.queued
	c.mu.Unlock()
	for {
		c.mu.Lock()
		done, ch := c.committed >= target, c.done
		c.mu.Unlock()
		if done {
			return
		}
		select {
		case c.kick <- struct{}{}:
		default:
		}
		<-ch
	}
}

// enqueue queues e and makes sure the commit goroutine runs.
func (s *Spool) enqueue(e commitEntry) {
	c := s.commit
	c.mu.Lock()
	c.pending = append(c.pending, e)
	c.queued++
	full := len(c.pending) >= commitBatch
	if !c.running {
		c.running = true
		go s.commitLoop()
	}
	c.mu.Unlock()
	if full {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

// commitLoop commits batches every commitInterval until the queue is empty.
func (s *Spool) commitLoop() {
	c := s.commit
	interval := s.cfg.CommitInterval
	t := time.NewTimer(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-c.kick:
		}
		start := time.Now()
		c.mu.Lock()
		batch := c.pending
		if len(batch) == 0 {
			c.running = false
			c.mu.Unlock()
			return
		}
		c.pending, c.spare = c.spare[:0], nil // the writers never share batch's array
		c.mu.Unlock()
		s.commitBatch(batch)
		s.m.CommitSeconds.Observe(time.Since(start).Seconds())
		n := len(batch)
		clear(batch) // drop references to segments and lines
		c.mu.Lock()
		c.spare = batch[:0]
		c.committed += uint64(n)
		close(c.done)
		c.done = make(chan struct{})
		c.mu.Unlock()
		t.Reset(max(0, interval-time.Since(start)))
	}
}

// commitBatch makes the batch's fragments durable, counts those that are,
// then retires the segments closed in it.
func (s *Spool) commitBatch(batch []commitEntry) {
	// 1. Data files: start every writeback, then wait for each.
	var segs []*Segment
	seen := map[*Segment]bool{}
	for i := range batch {
		e := &batch[i]
		if e.close {
			continue
		}
		e.sg.synced = max(e.sg.synced, e.frag.Offset+e.frag.Size)
		if !seen[e.sg] && !e.sg.failed.Load() {
			seen[e.sg] = true
			segs = append(segs, e.sg)
		}
	}
	s.syncFiles(segs, func(sg *Segment) error { return startWriteback(sg.data) },
		func(sg *Segment) error { return datasync(sg.data) }, "data")
	dropSynced(segs)
	// 2. Sidecar lines, after their data is durable.
	for i := range batch {
		e := &batch[i]
		if e.close || e.sg.failed.Load() {
			continue
		}
		if _, err := e.sg.idx.Write(e.line); err != nil {
			s.failSegment(e.sg, "sidecar", err)
			continue
		}
		e.ok = true
	}
	// 3. Sidecars, and the directories of segments committed the first time.
	s.syncFiles(segs, func(sg *Segment) error { return startWriteback(sg.idx) },
		func(sg *Segment) error { return datasync(sg.idx) }, "sidecar")
	dirs := map[string]bool{}
	for _, sg := range segs {
		if sg.dirSynced || sg.failed.Load() {
			continue
		}
		dir := filepath.Dir(sg.dataPath)
		if !dirs[dir] {
			dirs[dir] = true
			if err := syncDir(dir); err != nil {
				s.log.Error("cannot sync a spool directory: video is being lost", "dir", dir, "err", err)
				for _, o := range segs {
					if filepath.Dir(o.dataPath) == dir {
						s.failSegment(o, "directory", err)
					}
				}
				continue
			}
		}
		sg.dirSynced = !sg.failed.Load()
	}
	// 4. Count what is durable, then retire the closed segments (their files
	// are closed first, before anyone else can see them in the queue).
	for i := range batch {
		if batch[i].close {
			batch[i].sg.closeFiles()
		}
	}
	frames := 0
	var closed, empty []*Segment
	s.mu.Lock()
	for i := range batch {
		e := &batch[i]
		if e.close {
			delete(s.open, e.sg)
			if len(e.sg.seg.Fragments) == 0 {
				s.forgetLocked(e.sg)
				empty = append(empty, e.sg)
			} else {
				s.queue = append(s.queue, e.sg)
				closed = append(closed, e.sg)
			}
			continue
		}
		e.sg.bytes += e.bytes
		if !e.ok || e.sg.failed.Load() {
			continue
		}
		sg := e.sg
		sg.seg.Fragments = append(sg.seg.Fragments, e.frag)
		sg.seg.Size += e.frag.Size
		sg.seg.End = sg.seg.Start.Add(e.frag.Start + e.frag.Duration)
		frames += e.frames
	}
	if len(closed)+len(empty) > 0 {
		s.notifyLocked()
	}
	s.mu.Unlock()
	s.m.Frames.Add(float64(frames))
	for _, sg := range empty {
		s.removeFiles(sg)
	}
	for _, sg := range closed {
		s.log.Debug("segment closed", "camera", sg.cam, "start", sg.seg.Start,
			"duration", sg.seg.End.Sub(sg.seg.Start), "bytes", sg.seg.Size, "fragments", len(sg.seg.Fragments))
	}
}

// dropSynced drops the just synced fragments of segs from the page cache.
//
// Why: recorded video is written once and read back rarely (an upload to a
// remote store reads it once from disk; playback later). Left in the cache
// it grows the page cache by the whole recording rate, evicting what the
// machine does need, counting against a container's memory limit, and
// making every write take a fresh page: measured on the load VM, writing
// 8 GiB into new page cache cost 31 s of system time, writing it while
// dropping what was synced 3.4 s (docs/benchmarks.md). Only whole pages
// below a fragment's end are dropped, so that the page the next fragment
// starts in stays cached and is never read back from disk to be completed.
func dropSynced(segs []*Segment) {
	page := int64(os.Getpagesize())
	for _, sg := range segs {
		end := sg.synced - sg.synced%page
		if end > sg.uncached && !sg.failed.Load() {
			_ = dropCache(sg.data, sg.uncached, end-sg.uncached) // advice only
			sg.uncached = end
		}
	}
}

// syncFiles runs start on every healthy segment, then wait on each, failing
// the segments where either errs.
func (s *Spool) syncFiles(segs []*Segment, start, wait func(*Segment) error, what string) {
	for _, sg := range segs {
		if sg.failed.Load() {
			continue
		}
		if err := start(sg); err != nil {
			s.failSegment(sg, what, err)
		}
	}
	for _, sg := range segs {
		if sg.failed.Load() {
			continue
		}
		if err := wait(sg); err != nil {
			s.failSegment(sg, what, err)
		}
	}
}

// failSegment marks sg as failed: none of its later fragments count, and
// its writer closes it and restarts at the next keyframe.
func (s *Spool) failSegment(sg *Segment, what string, err error) {
	if sg.failed.Swap(true) {
		return
	}
	s.log.Error("cannot sync the spool: video is being lost", "camera", sg.cam,
		"file", what, "err", fmt.Errorf("%s: %w", sg.dataPath, err))
}
