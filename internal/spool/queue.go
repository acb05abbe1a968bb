package spool

import "github.com/camcloud/camcloud/internal/store"

// Next takes the oldest closed segment nobody uploads yet, or returns the
// channel to wait on for a change. The segment is the caller's until it
// gives it back with Done.
func (s *Spool) Next() (*Segment, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sg := range s.queue {
		if !sg.uploading {
			sg.uploading = true
			return sg, nil
		}
	}
	return nil, s.changed
}

// Done gives back a segment taken with Next. With keep, it stays queued
// (to be taken again, or recovered by the next process); otherwise it
// leaves the queue and the spool's accounting, and its files are the
// caller's to Delete (or to leave for the next process's recovery).
func (s *Spool) Done(sg *Segment, keep bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sg.uploading, sg.waiting = false, false
	if !keep && !sg.dropped { // a dropped one has left already
		for i, q := range s.queue {
			if q == sg {
				s.queue = append(s.queue[:i], s.queue[i+1:]...)
				break
			}
		}
		s.forgetLocked(sg)
	}
	s.notifyLocked()
}

// Backoff tells the spool that the uploader of sg (taken with Next) waits
// to retry a failed upload (waiting true) or is about to try again (false).
// While it waits, a full spool may drop sg for room as it drops the
// segments nobody uploads: the oldest queued video goes first, even when
// every queued segment has an uploader retrying against a store that is
// away. Backoff reports whether sg was dropped; its uploader then stops
// and gives it back with Done.
func (s *Spool) Backoff(sg *Segment, waiting bool) (dropped bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sg.waiting = waiting && !sg.dropped
	return sg.dropped
}

// Delete removes the files of a segment given back with Done, and its init
// file when no other spooled segment uses it.
func (s *Spool) Delete(sg *Segment) { s.removeFiles(sg) }

// Row is the segment's index row. Call it on a segment taken with Next
// (closed and committed: the row is complete and no longer changes).
func (sg *Segment) Row() store.Segment { return sg.seg }

// DataPath is the segment's data file: the segment object, once closed.
func (sg *Segment) DataPath() string { return sg.dataPath }

// InitPath is the segment's init segment file.
func (sg *Segment) InitPath() string { return sg.initPath }
