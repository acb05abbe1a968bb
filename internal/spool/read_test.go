package spool

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"testing"
	"time"
)

// TestReadSpooled: a camera's spooled segments are seen with their
// committed fragments only, while being written (Open) and after closing
// until they leave the spool; their bytes and init segment read back as
// written, up to the last committed fragment; another camera's keys are
// not found.
func TestReadSpooled(t *testing.T) {
	s, _ := newSpool(t, "", func(c *Config) { c.CommitInterval = time.Hour })
	w := &testWriter{sg: openTest(t, s, "cam1", epoch)}
	other := &testWriter{sg: openTest(t, s, "cam2", epoch)}
	other.write(t, 1)
	if got := s.Spooled("cam1"); len(got) != 1 || !got[0].Open || len(got[0].Row.Fragments) != 0 {
		t.Fatalf("an open segment without a fragment: %+v, want it listed, open and empty", got)
	}
	w.write(t, 3)
	if got := s.Spooled("cam1"); len(got) != 1 || len(got[0].Row.Fragments) != 0 {
		t.Fatalf("uncommitted fragments are listed: %+v", got)
	}
	done := s.Committed()
	s.Flush()
	select {
	case <-done:
	default:
		t.Fatal("Committed's channel is not closed by a commit")
	}
	w.write(t, 1) // written, not committed: not seen
	got := s.Spooled("cam1")
	if len(got) != 1 || !got[0].Open || len(got[0].Row.Fragments) != 3 || !got[0].Row.End.Equal(epoch.Add(3*time.Second)) {
		t.Fatalf("spooled %+v, want one open segment of 3 fragments", got)
	}
	row := got[0].Row
	f, size, err := s.OpenSpooled("cam1", row.Key)
	if err != nil {
		t.Fatal(err)
	}
	last := row.Fragments[2]
	if size != last.Offset+last.Size {
		t.Errorf("committed size %d, want %d", size, last.Offset+last.Size)
	}
	b, err := io.ReadAll(io.NewSectionReader(f, 0, size))
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if n := frames(t, b, row.Fragments); n != 3*framesPerFrag {
		t.Errorf("%d frames read back, want %d", n, 3*framesPerFrag)
	}
	if init, err := s.SpooledInit("cam1", row.InitKey); err != nil || !bytes.Equal(init, testInit) {
		t.Errorf("init %q %v", init, err)
	}
	for _, c := range []struct{ cam, key string }{{"cam2", row.Key}, {"cam1", row.Key + "x"}, {"cam1", row.InitKey}} {
		if _, _, err := s.OpenSpooled(c.cam, c.key); !errors.Is(err, ErrNotSpooled) {
			t.Errorf("OpenSpooled(%s, %s): %v, want ErrNotSpooled", c.cam, c.key, err)
		}
	}
	if _, err := s.SpooledInit("cam1", row.Key); !errors.Is(err, ErrNotSpooled) {
		t.Errorf("SpooledInit of a segment key: %v", err)
	}

	// Closed and waiting for upload: still there, not open, whole.
	w.sg.Close()
	s.Flush()
	got = s.Spooled("cam1")
	if len(got) != 1 || got[0].Open || len(got[0].Row.Fragments) != 4 {
		t.Fatalf("after close: %+v", got)
	}
	// The listing's table is a copy the writer's appends never reach.
	frags := append(got[0].Row.Fragments, got[0].Row.Fragments[0])
	if len(frags) != 5 || len(s.Spooled("cam1")[0].Row.Fragments) != 4 {
		t.Fatal("an append to a listed table reached the spool")
	}
	sg, _ := s.Next()
	for sg != nil && sg.cam != "cam1" {
		s.Done(sg, true)
		sg, _ = s.Next()
	}
	s.Done(sg, false)
	s.Delete(sg)
	if got := s.Spooled("cam1"); len(got) != 0 {
		t.Errorf("an uploaded segment is still listed: %+v", got)
	}
	if _, _, err := s.OpenSpooled("cam1", row.Key); !errors.Is(err, ErrNotSpooled) {
		t.Errorf("OpenSpooled after upload: %v", err)
	}
}

// TestReadSpooledWhileWriting reads a camera's spool while its writer
// writes and the committer commits (run with -race): every listed
// fragment reads back whole.
func TestReadSpooledWhileWriting(t *testing.T) {
	s, _ := newSpool(t, "", func(c *Config) { c.CommitInterval = time.Millisecond })
	w := &testWriter{sg: openTest(t, s, "cam1", epoch)}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 40 {
			w.write(t, 1)
			time.Sleep(time.Millisecond)
		}
		close(stop)
	}()
	reads := 0
	defer wg.Wait() // the writer ends before the test does, even when it fails
	for done := false; !done; {
		select {
		case <-stop:
			done = true
		default:
		}
		for _, sp := range s.Spooled("cam1") {
			if len(sp.Row.Fragments) == 0 {
				continue // open, nothing committed yet
			}
			f, size, err := s.OpenSpooled("cam1", sp.Row.Key)
			if err != nil {
				t.Fatal(err)
			}
			b := make([]byte, size)
			_, err = f.ReadAt(b, 0)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			if n := frames(t, b, sp.Row.Fragments); n != len(sp.Row.Fragments)*framesPerFrag {
				t.Fatalf("%d frames in %d fragments", n, len(sp.Row.Fragments))
			}
			reads++
		}
	}
	wg.Wait()
	if reads == 0 {
		t.Error("nothing was read while writing")
	}
}
