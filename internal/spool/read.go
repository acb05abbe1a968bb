package spool

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"

	"github.com/camcloud/camcloud/internal/store"
)

// Reading what the spool holds, for playback of what is not uploaded yet
// (the holder route of internal/playback): a camera's open segment and
// those closed but not yet indexed. Readers see a snapshot taken under the
// spool's lock, which holds only fragments the group commit made durable
// (a fragment joins its segment's row only then, see commit.go), so every
// byte they read is written and never changes: the writer only appends
// past the last committed fragment. Nothing here is on the writers' path.

// ErrNotSpooled is returned for a segment or init segment the spool does
// not hold (any more: a segment leaves once uploaded and indexed).
var ErrNotSpooled = errors.New("spool: not in the spool")

// Spooled is one segment of a camera as the spool holds it now.
type Spooled struct {
	// Row is the segment's index row as its committed fragments make it:
	// for a closed segment the row it is indexed with once uploaded.
	Row store.Segment
	// Open is set while the segment is still being written.
	Open bool
}

// Spooled returns camera cam's segments in the spool (being written,
// waiting for upload or being uploaded), oldest first: those that hold a
// committed fragment, and the open ones even before their first (so that
// a reader knows the camera is being recorded and its next fragment is
// coming). The rows' fragment tables are the caller's to read, not to
// change.
func (s *Spool) Spooled(cam string) []Spooled {
	var out []Spooled
	add := func(sg *Segment, open bool) {
		if sg.cam != cam || (!open && len(sg.seg.Fragments) == 0) {
			return
		}
		row := sg.seg
		n := len(row.Fragments)
		row.Fragments = row.Fragments[:n:n] // an append copies: the writer appends to the array
		out = append(out, Spooled{Row: row, Open: open})
	}
	s.mu.Lock()
	for sg := range s.open {
		add(sg, true)
	}
	for _, sg := range s.queue {
		add(sg, false)
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Row.Start.Before(out[j].Row.Start) })
	return out
}

// find returns cam's spooled segment that match says is the one, or nil.
func (s *Spool) find(cam string, match func(*Segment) bool) (seg *Segment, end int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	look := func(sg *Segment) bool {
		if sg.cam != cam || len(sg.seg.Fragments) == 0 || !match(sg) {
			return false
		}
		last := sg.seg.Fragments[len(sg.seg.Fragments)-1]
		seg, end = sg, last.Offset+last.Size
		return true
	}
	for sg := range s.open {
		if look(sg) {
			return seg, end
		}
	}
	for _, sg := range s.queue {
		if look(sg) {
			return seg, end
		}
	}
	return nil, 0
}

// OpenSpooled opens for reading the data of cam's spooled segment whose
// object key is key, and returns the file with the number of bytes its
// committed fragments take from its start (read no further: what follows
// is being written). ErrNotSpooled when the spool does not hold it.
func (s *Spool) OpenSpooled(cam, key string) (*os.File, int64, error) {
	sg, end := s.find(cam, func(sg *Segment) bool { return sg.seg.Key == key })
	if sg == nil {
		return nil, 0, ErrNotSpooled
	}
	f, err := os.Open(sg.dataPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, ErrNotSpooled // uploaded and deleted meanwhile
	}
	if err != nil {
		return nil, 0, fmt.Errorf("spool: %w", err)
	}
	return f, end, nil
}

// maxInitBytes bounds an init segment read from the spool.
const maxInitBytes = 1 << 20

// SpooledInit returns the init segment whose object key is key, when one of
// cam's spooled segments uses it; ErrNotSpooled otherwise.
func (s *Spool) SpooledInit(cam, key string) ([]byte, error) {
	sg, _ := s.find(cam, func(sg *Segment) bool { return sg.seg.InitKey == key })
	if sg == nil {
		return nil, ErrNotSpooled
	}
	b, err := readFileMax(sg.initPath, maxInitBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotSpooled
	}
	return b, err
}

// Committed returns a channel closed when the next group commit is done:
// a reader waiting for a fragment to become durable looks again then.
func (s *Spool) Committed() <-chan struct{} {
	c := s.commit
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.done
}
