package hub

import (
	"errors"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
)

func unit(i int) *Unit {
	return &Unit{Track: 1, PTS: int64(i), DTS: int64(i), NTP: time.Unix(int64(i), 0), Key: i%50 == 0, Payload: [][]byte{{byte(i)}}}
}

// TestFanOutSharesUnits: every reader gets every unit, the same value (no
// per-reader copy), in order.
func TestFanOutSharesUnits(t *testing.T) {
	h := New()
	s := h.Publish("cam", []Track{{ID: 1, ClockRate: 90000}})
	r1, _ := s.NewReader(100)
	r2, _ := s.NewReader(100)
	var sent []*Unit
	for i := 0; i < 50; i++ {
		u := unit(i)
		sent = append(sent, u)
		s.Write(u)
	}
	for _, r := range []*Reader{r1, r2} {
		for i := 0; i < 50; i++ {
			u, err := r.Read()
			if err != nil || u != sent[i] {
				t.Fatalf("unit %d: %v %p want %p", i, err, u, sent[i])
			}
		}
	}
}

// TestSlowReaderIsDropped: a reader that stops reading is dropped with
// ErrOverflow; the publisher never blocks and the other reader gets all.
func TestSlowReaderIsDropped(t *testing.T) {
	h := New()
	s := h.Publish("cam", nil)
	slow, _ := s.NewReader(4)
	fast, _ := s.NewReader(1000)
	done := make(chan struct{})
	go func() {
		for i := 0; i < 500; i++ {
			s.Write(unit(i))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("publisher blocked on a slow reader")
	}
	n := 0
	for range 4 {
		if _, err := slow.Read(); err == nil {
			n++
		}
	}
	if _, err := slow.Read(); !errors.Is(err, ErrOverflow) {
		t.Fatalf("slow reader: got %v after %d units, want ErrOverflow", err, n)
	}
	for i := 0; i < 500; i++ {
		u, err := fast.Read()
		if err != nil || u.PTS != int64(i) {
			t.Fatalf("fast reader unit %d: %v", i, err)
		}
	}
}

// TestSecondPublisherReplacesFirst: readers of the first stream see it end,
// OnPublish fires for both, and Get returns the new one.
func TestSecondPublisherReplacesFirst(t *testing.T) {
	h := New()
	seen := make(chan *Stream, 2)
	h.OnPublish(func(s *Stream) { seen <- s })
	s1 := h.Publish("cam", nil)
	r1, _ := s1.NewReader(1)
	s2 := h.Publish("cam", nil)
	if _, err := r1.Read(); !errors.Is(err, ErrClosed) {
		t.Fatalf("old reader: %v", err)
	}
	select {
	case <-s1.Done():
	default:
		t.Fatal("old stream not done")
	}
	if h.Get("cam") != s2 {
		t.Fatal("hub does not hold the new stream")
	}
	got := map[*Stream]bool{<-seen: true, <-seen: true}
	if !got[s1] || !got[s2] {
		t.Fatal("OnPublish not called for both streams")
	}
	// Closing the replaced stream must not remove the new one.
	s1.Close()
	if h.Get("cam") != s2 {
		t.Fatal("closing the old stream removed the new one")
	}
	s2.Close()
	if h.Get("cam") != nil {
		t.Fatal("closed stream still in hub")
	}
	if _, err := s2.NewReader(1); !errors.Is(err, ErrClosed) {
		t.Fatal("reader on closed stream")
	}
}

// BenchmarkWriteFourReaders measures the per-unit cost of fan-out to four readers.
func BenchmarkWriteFourReaders(b *testing.B) {
	h := New()
	s := h.Publish("cam", nil)
	for range 4 {
		r, _ := s.NewReader(1024)
		go func() {
			for range r.C() {
			}
		}()
	}
	u := unit(1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Write(u)
	}
	b.StopTimer()
	s.Close()
}

// BenchmarkWriteCamera measures the per-unit cost of a camera's stream
// (H.264 at 25 fps with a key frame carrying its SPS and PPS every second,
// AAC at ~47 frames a second) fanned out to two readers, allocating each
// unit as a publisher does.
func BenchmarkWriteCamera(b *testing.B) {
	sps := []byte{0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50, 0x05, 0xbb, 0x01, 0x10}
	pps := []byte{0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0}
	idr, slice, aac := []byte{0x65, 0x88, 0x84, 0x00}, []byte{0x41, 0x9a, 0x02}, []byte{0x21, 0x10}
	tracks := []Track{
		{ID: 1, Codec: &codecs.H264{SPS: sps, PPS: pps}, ClockRate: 90000},
		{ID: 2, Codec: &codecs.MPEG4Audio{}, ClockRate: 48000},
	}
	s := New().Publish("cam", tracks)
	for range 2 {
		r, _ := s.NewReader(1024)
		go func() {
			for range r.C() {
			}
		}()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var u *Unit
		switch {
		case i%3 == 2:
			u = &Unit{Track: 2, PTS: int64(i), DTS: int64(i), Key: true, Payload: [][]byte{aac}}
		case i%75 == 0:
			u = &Unit{Track: 1, PTS: int64(i), DTS: int64(i), Key: true, Payload: [][]byte{sps, pps, idr}}
		default:
			u = &Unit{Track: 1, PTS: int64(i), DTS: int64(i), Payload: [][]byte{slice}}
		}
		s.Write(u)
	}
	b.StopTimer()
	s.Close()
}

// TestFirstReaderGetsEarlyUnits: the units written before the first reader
// attached (the recorder attaches after a database lookup) reach it; later
// readers start at the present, and a stream nobody reads stops holding
// units once the bound is reached.
func TestFirstReaderGetsEarlyUnits(t *testing.T) {
	cases := []struct {
		name    string
		written int // units written before the first reader
		buf     int
		want    int // units of those the first reader gets
	}{
		{"all early units", 10, 100, 10},
		{"newest that fit the buffer", 10, 4, 4},
		{"none after the bound", maxEarly + 1, 2 * maxEarly, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := New().Publish("cam", nil)
			for i := 0; i < c.written; i++ {
				s.Write(unit(i))
			}
			r1, _ := s.NewReader(c.buf)
			r2, _ := s.NewReader(c.buf)
			if got := len(r1.ch); got != c.want {
				t.Fatalf("first reader got %d early units, want %d", got, c.want)
			}
			if c.want > 0 {
				if u := <-r1.ch; u.DTS != int64(c.written-c.want) {
					t.Fatalf("first early unit is %d, want %d", u.DTS, c.written-c.want)
				}
			}
			if got := len(r2.ch); got != 0 {
				t.Fatalf("second reader got %d early units, want none", got)
			}
			if s.early != nil {
				t.Fatal("the stream still holds early units")
			}
		})
	}
}

// TestLiveReadersMakeTheStreamWatched: a stream is watched while a live
// reader is attached, whether that reader is closed, dropped for falling
// behind, or the stream ends; other readers (the recorder) do not count.
func TestLiveReadersMakeTheStreamWatched(t *testing.T) {
	h := New()
	s := h.Publish("cam", nil)
	rec, err := s.NewReader(8)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	if s.Watched() {
		t.Fatal("a recorder alone does not make the stream watched")
	}
	a, _ := s.NewLiveReader(8)
	b, _ := s.NewLiveReader(1)
	if !s.Watched() {
		t.Fatal("two live readers attached: watched")
	}
	a.Close()
	a.Close() // twice: counted once
	if !s.Watched() {
		t.Fatal("one live reader left: still watched")
	}
	s.Write(unit(1))
	s.Write(unit(2)) // b holds 1: dropped
	if _, err := b.Read(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Read(); !errors.Is(err, ErrOverflow) {
		t.Fatalf("b: %v, want ErrOverflow", err)
	}
	if s.Watched() {
		t.Fatal("the last live reader was dropped: not watched")
	}
	c, _ := s.NewLiveReader(8)
	if !s.Watched() {
		t.Fatal("a new live reader: watched")
	}
	s.Close()
	c.Close()
	if s.Watched() {
		t.Fatal("an ended stream is not watched")
	}
}

// seen is an Observer that keeps what it saw.
type seen struct{ units []*Unit }

func (o *seen) Observe(u *Unit) { o.units = append(o.units, u) }

// TestObserverSeesEveryUnit: a hub's observer sees every unit written to
// the streams it asked for, in order, whether or not a reader is attached,
// with no reader of its own; a stream it declined (nil) is not observed.
func TestObserverSeesEveryUnit(t *testing.T) {
	obs := map[string]*seen{}
	h := NewObserved(func(s *Stream) Observer {
		if s.CameraID == "declined" {
			return nil
		}
		o := &seen{}
		obs[s.CameraID] = o
		return o
	})
	s := h.Publish("cam", []Track{{ID: 1, ClockRate: 90000}})
	other := h.Publish("declined", []Track{{ID: 1, ClockRate: 90000}})
	var sent []*Unit
	for i := range 600 { // more than the early units held for a first reader
		u := unit(i)
		sent = append(sent, u)
		s.Write(u)
		other.Write(unit(i))
		if i == 300 {
			r, _ := s.NewReader(1000)
			defer r.Close()
		}
	}
	s.Close()
	s.Write(unit(600)) // after the end: not seen
	o := obs["cam"]
	if len(o.units) != len(sent) {
		t.Fatalf("observer saw %d units, %d were written", len(o.units), len(sent))
	}
	for i, u := range o.units {
		if u != sent[i] {
			t.Fatalf("unit %d: saw %p, want %p", i, u, sent[i])
		}
	}
	if len(obs) != 1 {
		t.Errorf("observers made for %d streams, want 1", len(obs))
	}
}

// TestGatheredUnitsWaitForFlush: a gathering stream hands its readers the
// units written only at Flush, in order, and nothing twice; a reader that
// attaches, the stream's end and the bound on held units each hand them
// on first; the observer sees every unit at once.
func TestGatheredUnitsWaitForFlush(t *testing.T) {
	pts := func(r *Reader) []int64 {
		var out []int64
		for len(r.ch) > 0 {
			out = append(out, (<-r.ch).PTS)
		}
		return out
	}
	eq := func(t *testing.T, what string, got []int64, want ...int64) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: units %v, want %v", what, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: units %v, want %v", what, got, want)
			}
		}
	}
	t.Run("held until Flush", func(t *testing.T) {
		o := &seen{}
		s := NewObserved(func(*Stream) Observer { return o }).Publish("cam", nil)
		r, _ := s.NewReader(100)
		s.Gather()
		for i := range 3 {
			s.Write(unit(i))
		}
		eq(t, "before Flush", pts(r))
		if len(o.units) != 3 {
			t.Fatalf("the observer saw %d units before Flush, want 3", len(o.units))
		}
		s.Flush()
		eq(t, "after Flush", pts(r), 0, 1, 2)
		s.Flush()
		eq(t, "a second Flush", pts(r))
	})
	t.Run("a new reader hands on what is held first", func(t *testing.T) {
		s := New().Publish("cam", nil)
		a, _ := s.NewReader(100)
		s.Gather()
		s.Write(unit(1))
		s.Write(unit(2))
		b, _ := s.NewReader(100)
		eq(t, "the reader that was there", pts(a), 1, 2)
		eq(t, "the reader that came later", pts(b))
		s.Write(unit(3))
		s.Flush()
		eq(t, "then the first", pts(a), 3)
		eq(t, "then the second", pts(b), 3)
	})
	t.Run("the first reader gets the early units once", func(t *testing.T) {
		s := New().Publish("cam", nil)
		s.Gather()
		s.Write(unit(1))
		s.Write(unit(2))
		r, _ := s.NewReader(100)
		s.Flush()
		eq(t, "early units", pts(r), 1, 2)
	})
	t.Run("the end of the stream hands on what is held", func(t *testing.T) {
		s := New().Publish("cam", nil)
		r, _ := s.NewReader(100)
		s.Gather()
		s.Write(unit(1))
		s.Close()
		if u, err := r.Read(); err != nil || u.PTS != 1 {
			t.Fatalf("Read = %v, %v; want the held unit", u, err)
		}
		if _, err := r.Read(); !errors.Is(err, ErrClosed) {
			t.Fatalf("after the held units: %v, want ErrClosed", err)
		}
	})
	t.Run("at most maxHeld units wait", func(t *testing.T) {
		s := New().Publish("cam", nil)
		r, _ := s.NewReader(2 * maxHeld)
		s.Gather()
		for i := range maxHeld + 1 {
			s.Write(unit(i))
		}
		if got := len(r.ch); got != maxHeld {
			t.Fatalf("%d units handed on without Flush, want the bound, %d", got, maxHeld)
		}
	})
}
