package record

import (
	"time"

	"github.com/camcloud/camcloud/internal/spool"
	"github.com/camcloud/camcloud/internal/store"
)

// segmentSpool is all a writer needs of the spool: a segment to write each
// piece of a recording into, and whether segments should close early. One
// call per segment; the writes go to the segment (segmentFile).
type segmentSpool interface {
	Open(cam string, start time.Time, init []byte, initHash, codec string) (segmentFile, error)
	Pressed() bool
}

// segmentFile is one open segment of the spool (a *spool.Segment), written
// by one writer: a write per batch of frames, a commit per fragment.
type segmentFile interface {
	// WriteAt writes b at off and returns the spool room it took.
	WriteAt(b []byte, off int64) (int64, error)
	// ReadBack reads back what was written at off.
	ReadBack(b []byte, off int64) error
	// Commit hands a written fragment to the group commit.
	Commit(f store.Fragment, frames int, taken int64) error
	// Release gives back room taken by writes that will not be committed.
	Release(n int64)
	// Close ends the segment; it is uploaded once committed.
	Close()
	// Written is where the last committed fragment ends.
	Written() int64
	// End is the wall-clock end of the last committed fragment.
	End() time.Time
}

// spoolSegments is the spool as writers see it.
type spoolSegments struct{ sp *spool.Spool }

func (s spoolSegments) Open(cam string, start time.Time, init []byte, initHash, codec string) (segmentFile, error) {
	sg, err := s.sp.Open(cam, start, init, initHash, codec)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return sg, nil
}

func (s spoolSegments) Pressed() bool { return s.sp.Pressed() }
