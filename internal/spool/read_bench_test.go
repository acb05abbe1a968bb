package spool

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkSpooled lists one camera's spool while 1000 cameras each have
// an open segment (a camera server at about its capacity): the cost of one
// holder listing, nearly all of it with the spool's lock held (which the
// writers take when they take room). It does not depend on the fragments
// per segment: a listing copies each row, not its fragment table.
func BenchmarkSpooled(b *testing.B) {
	s, _ := newSpool(b, "", func(c *Config) { c.CommitInterval, c.MaxBytes = time.Hour, 1<<30 })
	var segs []*Segment
	for i := range 1000 {
		w := &testWriter{sg: openTest(b, s, fmt.Sprintf("cam%d", i), epoch)}
		w.write(b, 2)
		segs = append(segs, w.sg)
	}
	s.Flush()
	defer func() { // close the files: the benchmark runs several times
		for _, sg := range segs {
			sg.Close()
		}
		s.Flush()
	}()
	b.ResetTimer()
	for range b.N {
		if got := s.Spooled("cam500"); len(got) != 1 || len(got[0].Row.Fragments) != 2 {
			b.Fatalf("%+v", got)
		}
	}
}
