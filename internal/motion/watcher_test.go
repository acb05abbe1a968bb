package motion

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/camcloud/camcloud/internal/hub"
)

// recorder collects what a watcher emits.
type recorder struct {
	mu  sync.Mutex
	got []Transition
	ch  chan Transition
}

func newRecorder() *recorder { return &recorder{ch: make(chan Transition, 100)} }

func (r *recorder) emit(_ context.Context, t Transition) {
	r.mu.Lock()
	r.got = append(r.got, t)
	r.mu.Unlock()
	r.ch <- t
}

func (r *recorder) next(t *testing.T) Transition {
	t.Helper()
	select {
	case tr := <-r.ch:
		return tr
	case <-time.After(10 * time.Second):
		t.Fatal("no transition within 10 s")
		return Transition{}
	}
}

// startWatcher runs a watcher on a fresh hub with the given settings per
// camera, and returns the hub, what it emits, and a channel of attaches.
func startWatcher(t *testing.T, settings func(id string) (Settings, error), refresh time.Duration) (*hub.Hub, *recorder, chan string, *Watcher) {
	t.Helper()
	rec := newRecorder()
	attached := make(chan string, 10)
	w, err := NewWatcher(WatcherConfig{Emit: rec.emit, AttachDelay: -1, Refresh: refresh,
		Lookup: func(_ context.Context, id string) (Settings, error) { return settings(id) }})
	if err != nil {
		t.Fatal(err)
	}
	h := hub.NewObserved(w.Observe)
	w.attached = func(id string) { attached <- id }
	ctx, cancel := context.WithCancel(context.Background())
	w.Start(ctx)
	t.Cleanup(func() { cancel(); h.CloseAll(); w.Wait() })
	return h, rec, attached, w
}

var videoTracks = []hub.Track{{ID: 1, Codec: &codecs.H264{}, ClockRate: 90000}, {ID: 2, Codec: &codecs.MPEG4Audio{}, ClockRate: 48000}}

// publishFrames writes n frames of 25 fps video (with an audio unit
// between frames), keyframes every 50, sizes from size(i); wall-clock
// times start at t0 and jitter by up to 30 ms, as arrival times do.
func publishFrames(s *hub.Stream, t0 time.Time, from, n int, size func(i int) int) {
	for i := from; i < from+n; i++ {
		dts := int64(i) * 3600
		at := t0.Add(time.Duration(i)*40*time.Millisecond + time.Duration(i*7919%61-30)*time.Millisecond)
		s.Write(&hub.Unit{Track: 1, DTS: dts, PTS: dts, NTP: at, Key: i%50 == 0, Payload: [][]byte{make([]byte, size(i))}})
		s.Write(&hub.Unit{Track: 2, DTS: int64(i) * 1920, NTP: at, Key: true, Payload: [][]byte{make([]byte, 200)}})
	}
}

func waitAttached(t *testing.T, ch chan string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("the watcher did not attach")
	}
}

func TestWatcherEmitsOpenAndClose(t *testing.T) {
	h, rec, attached, w := startWatcher(t, func(string) (Settings, error) { return Settings{Enabled: true, Sensitivity: 5}, nil }, time.Hour)
	s := h.Publish("cam1", videoTracks)
	waitAttached(t, attached)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	// 20 s quiet, 6 s of motion (frames 500..649), 20 s quiet.
	publishFrames(s, t0, 0, 1150, func(i int) int {
		if i >= 500 && i < 650 {
			return 400
		}
		return 100
	})
	open, closed := rec.next(t), rec.next(t)
	if !open.Open || open.CameraID != "cam1" || open.Sensitivity != 5 || closed.Open || !closed.Start.Equal(open.Start) {
		t.Fatalf("open %+v, close %+v", open, closed)
	}
	if d := open.Start.Sub(t0.Add(20 * time.Second)).Abs(); d > time.Second {
		t.Errorf("start %v, want about %v", open.Start, t0.Add(20*time.Second))
	}
	if d := closed.End.Sub(t0.Add(26 * time.Second)).Abs(); d > 1500*time.Millisecond {
		t.Errorf("end %v, want about %v", closed.End, t0.Add(26*time.Second))
	}
	if closed.Peak < 2 {
		t.Errorf("peak %v", closed.Peak)
	}
	if n, c := value(w.m.opened), value(w.m.cameras); n != 1 || c != 1 {
		t.Errorf("metrics: %v events opened, %v cameras watched; want 1 and 1", n, c)
	}
}

func TestWatcherClosesAtStreamEnd(t *testing.T) {
	h, rec, attached, _ := startWatcher(t, func(string) (Settings, error) { return Settings{Enabled: true, Sensitivity: 5}, nil }, time.Hour)
	s := h.Publish("cam1", videoTracks)
	waitAttached(t, attached)
	publishFrames(s, time.Now(), 0, 800, func(i int) int {
		if i >= 500 {
			return 400
		}
		return 100
	})
	if tr := rec.next(t); !tr.Open {
		t.Fatalf("%+v", tr)
	}
	s.Close()
	if tr := rec.next(t); tr.Open || tr.End.IsZero() {
		t.Fatalf("%+v, want a close when the stream ended", tr)
	}
}

func TestWatcherDisabledAndFailingCameras(t *testing.T) {
	var mu sync.Mutex
	enabled := false
	h, rec, attached, _ := startWatcher(t, func(id string) (Settings, error) {
		mu.Lock()
		defer mu.Unlock()
		if id == "broken" {
			return Settings{}, errors.New("directory down")
		}
		return Settings{Enabled: enabled, Sensitivity: 5}, nil
	}, 50*time.Millisecond)
	h.Publish("broken", videoTracks)
	s := h.Publish("cam1", videoTracks)
	motion := func(i int) int {
		if i >= 500 {
			return 400
		}
		return 100
	}
	publishFrames(s, time.Now(), 0, 800, motion)
	select {
	case id := <-attached:
		t.Fatalf("attached to %s, whose motion detection is off or unreadable", id)
	case tr := <-rec.ch:
		t.Fatalf("emitted %+v", tr)
	case <-time.After(300 * time.Millisecond):
	}
	mu.Lock()
	enabled = true // turned on: the next refresh attaches
	mu.Unlock()
	waitAttached(t, attached)
	publishFrames(s, time.Now(), 800, 800, func(i int) int { return motion(i - 800) })
	if tr := rec.next(t); !tr.Open {
		t.Fatalf("%+v", tr)
	}
	mu.Lock()
	enabled = false // turned off mid-event: closed
	mu.Unlock()
	if tr := rec.next(t); tr.Open {
		t.Fatalf("%+v, want a close when turned off", tr)
	}
}

func TestWatcherIgnoresAudioOnlyStreams(t *testing.T) {
	h, _, attached, _ := startWatcher(t, func(string) (Settings, error) { return Settings{Enabled: true, Sensitivity: 5}, nil }, time.Hour)
	h.Publish("audio", videoTracks[1:])
	select {
	case id := <-attached:
		t.Fatalf("attached to the audio-only stream %s", id)
	case <-time.After(200 * time.Millisecond):
	}
}

func TestMediaTime(t *testing.T) {
	long := int64(30*24*3600) * 90000 // a month of 90 kHz ticks
	if got := mediaTime(long+45000, 90000); got != 30*24*time.Hour+500*time.Millisecond {
		t.Fatalf("%v", got)
	}
}

// value reads a counter's or a gauge's value.
func value(m prometheus.Metric) float64 {
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		return -1
	}
	return d.GetCounter().GetValue() + d.GetGauge().GetValue()
}

// TestObserveDoesNotAllocate: what the watcher does inside a stream's
// write (a frame's size to the detector, an edge to the ring) allocates
// nothing, also on the frames that open and close events.
func TestObserveDoesNotAllocate(t *testing.T) {
	w, err := NewWatcher(WatcherConfig{Emit: func(context.Context, Transition) {}, Lookup: func(context.Context, string) (Settings, error) { return Settings{}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	s := hub.New().Publish("cam1", videoTracks)
	c := &camera{w: w, s: s, track: videoTracks[0], wake: make(chan struct{}, 1), on: true, det: New(5), set: Settings{Enabled: true, Sensitivity: 5}}
	units := make([]*hub.Unit, 1500)
	payload := [][]byte{make([]byte, 400)}
	for i := range units {
		size := 100
		if i%300 >= 150 { // motion for 6 s in every 12 s
			size = 400
		}
		dts := int64(i) * 3600
		units[i] = &hub.Unit{Track: 1, DTS: dts, PTS: dts, NTP: time.Unix(1e9, 0).Add(time.Duration(i) * 40 * time.Millisecond), Key: i%50 == 0,
			Payload: [][]byte{payload[0][:size]}}
	}
	i := 0
	allocs := testing.AllocsPerRun(len(units)-1, func() {
		c.Observe(units[i])
		i++
		if c.n == len(c.ring) {
			c.head, c.n = 0, 0 // as the goroutine would take them
		}
	})
	if allocs != 0 {
		t.Errorf("Observe allocates %v times per frame", allocs)
	}
	if c.openStart.IsZero() {
		t.Error("no motion event opened in 60 s of frames with motion every 12 s")
	}
}

// BenchmarkObserve is the cost a motion-watched camera adds to each unit
// its stream writes.
func BenchmarkObserve(b *testing.B) {
	w, err := NewWatcher(WatcherConfig{Emit: func(context.Context, Transition) {}, Lookup: func(context.Context, string) (Settings, error) { return Settings{}, nil }})
	if err != nil {
		b.Fatal(err)
	}
	s := hub.New().Publish("cam1", videoTracks)
	c := &camera{w: w, s: s, track: videoTracks[0], wake: make(chan struct{}, 1), on: true, det: New(5), set: Settings{Enabled: true, Sensitivity: 5}}
	u := &hub.Unit{Track: 1, Payload: [][]byte{make([]byte, 4000)}}
	t0 := time.Unix(1e9, 0)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		u.DTS, u.PTS, u.NTP, u.Key = int64(i)*3600, int64(i)*3600, t0.Add(time.Duration(i)*40*time.Millisecond), i%50 == 0
		c.Observe(u)
		c.head, c.n = 0, 0
	}
}
