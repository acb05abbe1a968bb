package playback

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/spool"
	"github.com/camcloud/camcloud/internal/store"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestMergeSpans(t *testing.T) {
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	spans := []store.Span{{Start: at(0), End: at(60)}, {Start: at(100), End: at(160)}}
	spooled := []store.Segment{
		{Start: at(161), End: at(200)}, // 1 s after the last span: joined
		{Start: at(205), End: at(230)}, // after a hole
		{Start: at(230), End: at(400)}, // runs past to: clipped
	}
	got := mergeSpans(spans, spooled, at(0), at(300), SpanGap)
	want := []store.Span{{Start: at(0), End: at(60)}, {Start: at(100), End: at(200)}, {Start: at(205), End: at(300)}}
	if len(got) != len(want) {
		t.Fatalf("spans %v, want %v", got, want)
	}
	for i := range want {
		if !got[i].Start.Equal(want[i].Start) || !got[i].End.Equal(want[i].End) {
			t.Errorf("span %d = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestMergeSegments(t *testing.T) {
	a := store.Segment{Key: "a", Start: t0}
	b := store.Segment{Key: "b", Start: t0.Add(time.Minute)}
	c := store.Segment{Key: "c", Start: t0.Add(2 * time.Minute)}
	got := mergeSegments([]store.Segment{a, c}, []store.Segment{{Key: "c", Start: c.Start, Size: 1}, b})
	if len(got) != 3 || got[0].Key != "a" || got[1].Key != "b" || got[2].Key != "c" || got[2].Size != 0 {
		t.Errorf("merged %+v: want a, b, c with c's index row", got)
	}
}

// TestFromWireRefuses: a holder's listing naming another camera's objects,
// or fragments that do not fit, is refused whole.
func TestFromWireRefuses(t *testing.T) {
	good := segmentJSON{Key: "cam/c1/2026/03/01/1.m4s", InitKey: "cam/c1/init/0123456789abcdef.mp4", Start: t0, End: t0.Add(2 * time.Second),
		Fragments: []fragmentJSON{{Offset: 0, Size: 10, Duration: int64(time.Second), Key: true}, {Offset: 10, Size: 10, Start: int64(time.Second), Duration: int64(time.Second)}}}
	if segs, err := fromWire("c1", []segmentJSON{good}); err != nil || len(segs) != 1 || len(segs[0].Fragments) != 2 || segs[0].CameraID != "c1" {
		t.Fatalf("a good listing: %+v %v", segs, err)
	}
	for name, mod := range map[string]func(*segmentJSON){
		"another camera's key":  func(s *segmentJSON) { s.Key = "cam/c2/2026/03/01/1.m4s" },
		"another camera's init": func(s *segmentJSON) { s.InitKey = "cam/c2/init/x.mp4" },
		"no fragment":           func(s *segmentJSON) { s.Fragments = nil },
		"overlapping bytes":     func(s *segmentJSON) { s.Fragments[1].Offset = 5 },
		"empty fragment":        func(s *segmentJSON) { s.Fragments[1].Size = 0 },
		"past the end":          func(s *segmentJSON) { s.Fragments[1].Duration = int64(time.Minute) },
		"ends before it starts": func(s *segmentJSON) { s.End = t0.Add(-time.Second) },
	} {
		s := good
		s.Fragments = append([]fragmentJSON(nil), good.Fragments...)
		mod(&s)
		if _, err := fromWire("c1", []segmentJSON{s}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	many := make([]segmentJSON, maxSpooledSegments+1)
	for i := range many {
		many[i] = good
	}
	if _, err := fromWire("c1", many); err == nil {
		t.Error("too many segments: accepted")
	}
}

// fakeSpool is a camera's spool whose open segment grows one fragment at
// each commit (grow), or not at all.
type fakeSpool struct {
	mu      sync.Mutex
	row     store.Segment
	done    chan struct{}
	commits int
}

func newFakeSpool() *fakeSpool {
	return &fakeSpool{row: store.Segment{CameraID: "c1", Key: "cam/c1/k.m4s", InitKey: "cam/c1/init/i.mp4", Start: t0, End: t0.Add(time.Second),
		Fragments: []store.Fragment{{Size: 10, Duration: time.Second, Key: true}}}, done: make(chan struct{})}
}

func (f *fakeSpool) Spooled(cam string) []spool.Spooled {
	f.mu.Lock()
	defer f.mu.Unlock()
	if cam != "c1" {
		return nil
	}
	row := f.row
	row.Fragments = row.Fragments[:len(row.Fragments):len(row.Fragments)]
	return []spool.Spooled{{Row: row, Open: true}}
}

func (f *fakeSpool) OpenSpooled(string, string) (*os.File, int64, error) {
	return nil, 0, spool.ErrNotSpooled
}
func (f *fakeSpool) SpooledInit(string, string) ([]byte, error) { return nil, spool.ErrNotSpooled }

func (f *fakeSpool) Committed() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.done
}

// grow commits one more second.
func (f *fakeSpool) grow() {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(f.row.Fragments)
	f.row.Fragments = append(f.row.Fragments, store.Fragment{Offset: int64(n) * 10, Size: 10, Start: time.Duration(n) * time.Second, Duration: time.Second})
	f.row.End = f.row.End.Add(time.Second)
	f.commits++
	close(f.done)
	f.done = make(chan struct{})
}

// TestSpooledInWaits: with wait, a listing waits until the open segment
// has committed up to the end of the range (or now), and no longer than
// holderWait when it does not get there.
func TestSpooledInWaits(t *testing.T) {
	sp := newFakeSpool()
	stop := make(chan struct{})
	go func() {
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				sp.grow()
			}
		}
	}()
	segs := spooledIn(context.Background(), sp, "c1", t0, t0.Add(5*time.Second), true, t0.Add(time.Hour))
	close(stop)
	if len(segs) != 1 || segs[0].End.Before(t0.Add(5*time.Second)) {
		t.Fatalf("listing %+v: want the open segment committed up to 5 s", segs)
	}
	// Not waiting, or for a range whose end is not come yet: at once.
	if segs := spooledIn(context.Background(), sp, "c1", t0, t0.Add(time.Hour), false, t0.Add(time.Hour)); len(segs) != 1 {
		t.Fatalf("listing without wait: %+v", segs)
	}
	began := time.Now()
	segs = spooledIn(context.Background(), sp, "c1", t0, t0.Add(time.Hour), true, t0.Add(sp.row.End.Sub(t0)+time.Second))
	if waited := time.Since(began); len(segs) != 1 || waited < holderWait {
		t.Errorf("a stalled open segment: waited %v for %+v, want holderWait (%v) and the segment", waited, segs, holderWait)
	}
	if segs := spooledIn(context.Background(), sp, "c2", t0, t0.Add(time.Hour), true, t0.Add(time.Hour)); len(segs) != 0 {
		t.Errorf("another camera: %+v", segs)
	}
}

// TestRecentWithoutHolder: a holder that refuses connections, answers an
// error or does not answer in time leaves the answer to the index: no
// segment, no error, within the bounds.
func TestRecentWithoutHolder(t *testing.T) {
	signer, err := auth.NewSigner([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
	}))
	defer slow.Close()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	defer failing.Close()
	for name, base := range map[string]string{"refusing": closed, "silent": slow.URL, "failing": failing.URL} {
		s := New(Deps{Signer: signer, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Locate: func(context.Context, store.Camera) (string, error) { return base, nil }})
		for _, wait := range []bool{false, true} {
			began := time.Now()
			rs := s.recent(context.Background(), store.Camera{ID: "c1"}, t0, t0.Add(time.Minute), "u", wait)
			if took := time.Since(began); len(rs.segs) != 0 || took > holderTimeout+holderWait+2*time.Second {
				t.Errorf("%s holder (wait %v): %d segments after %v", name, wait, len(rs.segs), took)
			}
		}
	}
}

// TestBehind: a listing waits for the newest open segment, also one that
// has no committed fragment yet (it just started after the previous one
// closed), but not for a camera not being recorded or a recorder far
// behind.
func TestBehind(t *testing.T) {
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	closed := spool.Spooled{Row: store.Segment{Start: at(0), End: at(4), Fragments: make([]store.Fragment, 4)}}
	empty := spool.Spooled{Row: store.Segment{Start: at(4), End: at(4)}, Open: true}
	for _, c := range []struct {
		name   string
		list   []spool.Spooled
		target time.Time
		want   bool
	}{
		{"a segment that just opened", []spool.Spooled{closed, empty}, at(5), true},
		{"the open segment has it", []spool.Spooled{closed, empty}, at(4), false},
		{"nothing open", []spool.Spooled{closed}, at(5), false},
		{"far behind", []spool.Spooled{closed, empty}, at(60), false},
	} {
		if got := behind(c.list, c.target); got != c.want {
			t.Errorf("%s: behind = %v, want %v", c.name, got, c.want)
		}
	}
}
