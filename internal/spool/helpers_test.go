package spool

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/camcloud/camcloud/internal/fmp4"
	"github.com/camcloud/camcloud/internal/store"
)

// epoch is the wall-clock start of the first segment in tests.
var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Test segments hold synthetic video: fragments of 1 s, 25 samples of 3600
// ticks (90 kHz) each, a keyframe fragment every other one.
const (
	testInitHash    = "0123456789abcdef"
	testCodec       = "avc1.4d401f"
	framesPerFrag   = 25
	frameTicks      = 3600
	testSampleBytes = 4000
)

var testInit = []byte("synthetic init segment")

// newSpool returns a spool in dir (a new temporary one when empty), with
// its metrics in reach of the test.
func newSpool(t testing.TB, dir string, mod func(*Config)) (*Spool, *Metrics) {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	m := &Metrics{
		Bytes:         prometheus.NewGauge(prometheus.GaugeOpts{Name: "bytes"}),
		Dropped:       prometheus.NewCounter(prometheus.CounterOpts{Name: "dropped"}),
		Frames:        prometheus.NewCounter(prometheus.CounterOpts{Name: "frames"}),
		CommitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "commit_seconds"}),
	}
	cfg := Config{Dir: dir, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: *m}
	if testing.Verbose() {
		cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, m
}

// openTest opens a segment of cam starting at start.
func openTest(t testing.TB, s *Spool, cam string, start time.Time) *Segment {
	t.Helper()
	sg, err := s.Open(cam, start, testInit, testInitHash, testCodec)
	if err != nil {
		t.Fatal(err)
	}
	return sg
}

// testWriter writes fragments to one segment as the recorder does.
type testWriter struct {
	sg *Segment
	n  int // fragments written
}

// write writes and commits n more fragments (payload first, after room for
// the header, then the header into its room), without waiting for the
// commit.
func (w *testWriter) write(t testing.TB, n int) {
	t.Helper()
	sg := w.sg
	for range n {
		i := w.n
		tr := &fmp4.Track{ID: 1, BaseTime: uint64(i * framesPerFrag * frameTicks), LengthPrefixed: true}
		payload := make([]byte, testSampleBytes)
		for k := range framesPerFrag {
			payload[0] = byte(k)
			tr.Add(frameTicks, 0, k > 0, [][]byte{payload})
		}
		b := fmp4.AppendFragment(nil, uint32(i+1), []*fmp4.Track{tr})
		off := sg.Written()
		moof, _ := fmp4.FragmentSize([]*fmp4.Track{tr})
		head := moof + fmp4.BoxHeaderSize
		taken, err := sg.WriteAt(b[head:], off+int64(head))
		if err == nil {
			var more int64
			more, err = sg.WriteAt(b[:head], off)
			taken += more
		}
		if err == nil {
			f := store.Fragment{Offset: off, Size: int64(len(b)), Start: time.Duration(i) * time.Second,
				Duration: time.Second, Key: i%2 == 0}
			err = sg.Commit(f, framesPerFrag, taken)
		}
		if err != nil {
			t.Fatal(err)
		}
		w.n++
	}
}

// frames counts the samples of the fragments of a data file, from their
// moof boxes.
func frames(t testing.TB, data []byte, frags []store.Fragment) int {
	t.Helper()
	n := 0
	for _, f := range frags {
		if err := fmp4.CheckFragment(bytesReaderAt(data), f.Offset, f.Size); err != nil {
			t.Fatal(err)
		}
		h, err := fmp4.ReadHeaderAt(bytesReaderAt(data), f.Offset, f.Offset+f.Size)
		if err != nil {
			t.Fatal(err)
		}
		m, err := fmp4.ParseMoof(data[f.Offset : f.Offset+h.Size])
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range m.Trafs {
			n += int(tr.Dur / frameTicks)
		}
	}
	return n
}

// takeAll takes every closed segment from the queue, as the uploader
// does, reads its data, and deletes it; it returns their rows and data.
func takeAll(t testing.TB, s *Spool) ([]store.Segment, [][]byte) {
	t.Helper()
	var rows []store.Segment
	var datas [][]byte
	for {
		sg, _ := s.Next()
		if sg == nil {
			return rows, datas
		}
		b, err := os.ReadFile(sg.DataPath())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(sg.InitPath()); err != nil {
			t.Fatal(err)
		}
		rows, datas = append(rows, sg.Row()), append(datas, b)
		s.Done(sg, false)
		s.Delete(sg)
	}
}

// counter reads a counter's value.
func counter(t testing.TB, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// bytesReaderAt reads from a byte slice.
func bytesReaderAt(b []byte) io.ReaderAt { return bytes.NewReader(b) }
