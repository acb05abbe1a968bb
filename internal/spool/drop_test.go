package spool

import (
	"testing"
	"time"
)

// TestFullSpoolDropsSegmentWaitingToRetry: when the store is away every
// queued segment has an uploader retrying it. A full spool still drops the
// oldest of them while its uploader waits between attempts (not the new
// video), tells OnDrop its range, and Backoff tells the uploader, whose
// Done then leaves the accounting alone. One being transferred stays.
func TestFullSpoolDropsSegmentWaitingToRetry(t *testing.T) {
	type drop struct {
		cam        string
		start, end time.Time
	}
	var drops []drop
	s, _ := newSpool(t, "", func(c *Config) {
		c.MaxBytes = 1 << 20 // room for about two segments of 4 fragments
		c.OnDrop = func(cam string, start, end time.Time) { drops = append(drops, drop{cam, start, end}) }
	})
	t0 := time.Now().Truncate(time.Second)
	var queued []*Segment
	for i := range 2 {
		sg := openTest(t, s, "cam", t0.Add(time.Duration(i)*10*time.Second))
		(&testWriter{sg: sg}).write(t, 4)
		sg.Close()
		queued = append(queued, sg)
	}
	s.Flush()
	first, _ := s.Next()
	second, _ := s.Next()
	if first != queued[0] || second != queued[1] {
		t.Fatal("Next did not hand out the queued segments oldest first")
	}
	s.Backoff(first, true) // its upload failed: it waits to retry
	// The second is being transferred. New video needs room.
	sg := openTest(t, s, "cam", t0.Add(20*time.Second))
	(&testWriter{sg: sg}).write(t, 4)
	s.Flush()
	if len(drops) != 1 || drops[0].start != t0 || !drops[0].end.After(t0) {
		t.Fatalf("drops %+v, want the first segment's range", drops)
	}
	if !s.Backoff(first, false) {
		t.Fatal("Backoff does not tell the uploader its segment was dropped")
	}
	if s.Backoff(second, false) {
		t.Fatal("the segment being transferred was dropped")
	}
	before := s.bytes
	s.Done(first, false)
	if s.bytes != before {
		t.Fatalf("Done of the dropped segment changed the accounting: %d -> %d bytes", before, s.bytes)
	}
	s.Done(second, false)
	s.Delete(second)
}
