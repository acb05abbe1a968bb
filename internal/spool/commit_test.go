package spool

import (
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/testenv"
)

// TestCommitAfterIdle: the committer stops when nothing is queued and
// starts again on the next fragment, many times, without losing or mixing
// up fragments.
func TestCommitAfterIdle(t *testing.T) {
	s, m := newSpool(t, "", func(c *Config) { c.CommitInterval = time.Millisecond })
	idle := func() bool {
		s.commit.mu.Lock()
		defer s.commit.mu.Unlock()
		return !s.commit.running
	}
	w := &testWriter{sg: openTest(t, s, "cam1", epoch)}
	const loops = 3
	for range loops {
		w.write(t, 10)
		testenv.WaitFor(t, "the committer to go idle", idle)
	}
	w.sg.Close()
	s.Flush()
	rows, datas := takeAll(t, s)
	if len(rows) != 1 {
		t.Fatalf("%d rows, want 1", len(rows))
	}
	if got := frames(t, datas[0], rows[0].Fragments); got != loops*250 {
		t.Errorf("%d video frames stored, want %d", got, loops*250)
	}
	var off int64
	for i, f := range rows[0].Fragments {
		if f.Offset != off || f.Start != time.Duration(i)*time.Second {
			t.Fatalf("fragment %d at %d from %v, want %d from %ds", i, f.Offset, f.Start, off, i)
		}
		off += f.Size
	}
	if got := counter(t, m.Frames); got != loops*250 {
		t.Errorf("frames counted %v, want %d", got, loops*250)
	}
}

// TestFragmentsCountOnlyOnceCommitted: a written fragment joins its
// segment's row, the sidecar and the frames metric only once a commit
// synced it.
func TestFragmentsCountOnlyOnceCommitted(t *testing.T) {
	s, m := newSpool(t, "", func(c *Config) { c.CommitInterval = time.Hour })
	w := &testWriter{sg: openTest(t, s, "cam1", epoch)}
	w.write(t, 3)
	if got := counter(t, m.Frames); got != 0 {
		t.Errorf("frames counted %v before the commit", got)
	}
	s.mu.Lock()
	n := len(w.sg.seg.Fragments)
	s.mu.Unlock()
	if n != 0 {
		t.Errorf("%d fragments in the row before the commit", n)
	}
	s.Flush()
	if got := counter(t, m.Frames); got != 3*framesPerFrag {
		t.Errorf("frames counted %v after the commit, want %d", got, 3*framesPerFrag)
	}
	w.sg.Close()
	s.Flush()
	rows, _ := takeAll(t, s)
	if len(rows) != 1 || len(rows[0].Fragments) != 3 || rows[0].End != epoch.Add(3*time.Second) {
		t.Fatalf("rows %+v, want one of 3 fragments ending 3 s in", rows)
	}
}
