package record

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/sample"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/testenv"
)

// epoch is the wall-clock time of the first unit fed in tests.
var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// memIndex is an Index that keeps rows in memory and can fail on purpose.
type memIndex struct {
	mu    sync.Mutex
	rows  map[string]store.Segment
	fails int // InsertSegment calls left to fail
}

func newMemIndex() *memIndex { return &memIndex{rows: map[string]store.Segment{}} }

func (x *memIndex) InsertSegment(_ context.Context, s store.Segment) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.fails > 0 {
		x.fails--
		return errors.New("index down (test)")
	}
	x.rows[s.Key] = s
	return nil
}

// sorted returns the rows ordered by start.
func (x *memIndex) sorted() []store.Segment {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := make([]store.Segment, 0, len(x.rows))
	for _, s := range x.rows {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// flakyStore wraps a real store and fails Put and Stat while down is set.
type flakyStore struct {
	blob.Store
	down     atomic.Bool
	failures atomic.Int64
}

func (f *flakyStore) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if f.down.Load() {
		f.failures.Add(1)
		return errors.New("store down (test)")
	}
	return f.Store.Put(ctx, key, r, size)
}

func (f *flakyStore) Stat(ctx context.Context, key string) (int64, error) {
	if f.down.Load() {
		f.failures.Add(1)
		return 0, errors.New("store down (test)")
	}
	return f.Store.Stat(ctx, key)
}

type env struct {
	rec   *Recorder
	store *flakyStore
	index *memIndex
	reg   *prometheus.Registry
	spool string
}

func newEnv(t testing.TB, mod func(*Config)) *env {
	t.Helper()
	local, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e := &env{store: &flakyStore{Store: local}, index: newMemIndex(), reg: prometheus.NewRegistry(),
		spool: t.TempDir()}
	cfg := Config{
		SpoolDir:        e.spool,
		SegmentDuration: 4 * time.Second,
		Store:           e.store,
		Index:           e.index,
		Log:             slog.New(slog.NewTextHandler(io.Discard, nil)),
		Registerer:      e.reg,
		RetryBackoff:    5 * time.Millisecond,
	}
	if testing.Verbose() {
		cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if mod != nil {
		mod(&cfg)
	}
	e.rec, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// run starts the uploader until the test ends.
func (e *env) run(t testing.TB) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		e.rec.Run(ctx)
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// feeder publishes a sample on a hub stream and records it.
type feeder struct {
	t       testing.TB
	rec     *Recorder
	stream  *hub.Stream
	smp     *sample.Sample
	written int64
	errc    chan error
	cancel  context.CancelFunc
	// every, when set, runs after every 256 units written (about 3.5 s of
	// the sample), once the recorder consumed them.
	every func()
}

// startRecording publishes smp's tracks as camera cam and starts Record.
func startRecording(t testing.TB, rec *Recorder, cam string, smp *sample.Sample) *feeder {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f := &feeder{t: t, rec: rec, stream: hub.New().Publish(cam, smp.Tracks), smp: smp,
		errc: make(chan error, 1), cancel: cancel}
	base := rec.readers.Load()
	go func() { f.errc <- rec.Record(ctx, f.stream) }()
	testenv.WaitFor(t, "the recorder to attach", func() bool { return rec.readers.Load() > base })
	return f
}

// feed writes loops passes of the sample, as fast as the recorder takes
// them, with NTP times derived from the media timestamps, and waits until
// what the recorder wrote is committed.
func (f *feeder) feed(from, loops int) {
	f.t.Helper()
	f.write(from, loops)
	f.rec.spool.Flush() // what was written is synced and counted
}

// write is feed without waiting for the commit.
func (f *feeder) write(from, loops int) {
	f.t.Helper()
	for k := from; k < from+loops; k++ {
		for _, u := range f.smp.Loop(k) {
			u.NTP = epoch.Add(ticksToDur(u.DTS, f.smp.Tracks[u.Track-1].ClockRate))
			f.stream.Write(u)
			f.written++
			if f.written%256 == 0 {
				if f.every != nil {
					f.waitConsumed(f.written)
					f.every()
				} else {
					f.waitConsumed(f.written - 1024)
				}
			}
		}
	}
	f.waitConsumed(f.written)
}

// uploadsKeepUp lets uploads catch up every 3.5 s of the sample, as they
// would in real time: every commits what was written and waits until at
// most the open segment is left in the spool.
func (f *feeder) uploadsKeepUp() {
	f.every = func() {
		f.rec.spool.Flush()
		testenv.WaitFor(f.t, "closed segments to upload", func() bool {
			n, _ := f.rec.Pending()
			return n <= 1
		})
	}
}

func (f *feeder) waitConsumed(n int64) {
	f.t.Helper()
	testenv.WaitFor(f.t, "the recorder to consume", func() bool { return f.rec.consumed.Load() >= n })
}

// end closes the stream and waits for Record to return.
func (f *feeder) end() error {
	f.stream.Close()
	select {
	case err := <-f.errc:
		f.cancel()
		return err
	case <-time.After(20 * time.Second):
		f.t.Fatal("Record did not return after the stream closed")
		return nil
	}
}

func drain(t testing.TB, rec *Recorder) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := rec.Drain(ctx); err != nil {
		n, b := rec.Pending()
		t.Fatalf("Drain: %v (pending %d segments, %d bytes)", err, n, b)
	}
}

func getObject(t testing.TB, s blob.Store, key string) []byte {
	t.Helper()
	rc, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func counter(t testing.TB, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			m := mf.GetMetric()[0]
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Histogram != nil: // the number of observations
				return float64(m.Histogram.GetSampleCount())
			}
			return m.Gauge.GetValue()
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

// probeResult is what ffprobe says of an fMP4 file.
type probeResult struct {
	Start    time.Duration // start_time: the first segment of a session starts at 0
	Duration time.Duration // from start_time to the end
	Codecs   []string
	Packets  map[string]int           // by codec type: video, audio
	Starts   map[string]time.Duration // stream start_time by codec type
}

// mp4File writes init+segment to a temporary file for the ffmpeg tools.
func mp4File(t testing.TB, init, seg []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "segment.mp4")
	if err := os.WriteFile(path, append(append([]byte{}, init...), seg...), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// probe writes init+segment to a file and runs ffprobe on it.
func probe(t testing.TB, init, seg []byte) probeResult {
	t.Helper()
	ffprobe := testenv.Tool(t, "ffprobe")
	path := mp4File(t, init, seg)
	out, err := exec.Command(ffprobe, "-v", "error", "-count_packets",
		"-show_entries", "format=start_time,duration:stream=codec_name,codec_type,nb_read_packets,start_time",
		"-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v\n%s", err, out)
	}
	var res struct {
		Format struct {
			StartTime string `json:"start_time"`
			Duration  string
		}
		Streams []struct {
			CodecName     string `json:"codec_name"`
			CodecType     string `json:"codec_type"`
			NbReadPackets string `json:"nb_read_packets"`
			StartTime     string `json:"start_time"`
		}
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("ffprobe output %s: %v", out, err)
	}
	secs, err := strconv.ParseFloat(res.Format.Duration, 64)
	if err != nil {
		t.Fatalf("ffprobe duration %q: %v", res.Format.Duration, err)
	}
	start, err := strconv.ParseFloat(res.Format.StartTime, 64)
	if err != nil {
		t.Fatalf("ffprobe start_time %q: %v", res.Format.StartTime, err)
	}
	// ffprobe's mov demuxer reports the duration from time zero.
	pr := probeResult{Start: time.Duration(start * float64(time.Second)),
		Duration: time.Duration((secs - start) * float64(time.Second)), Packets: map[string]int{}, Starts: map[string]time.Duration{}}
	for _, s := range res.Streams {
		pr.Codecs = append(pr.Codecs, s.CodecName)
		n, _ := strconv.Atoi(s.NbReadPackets)
		pr.Packets[s.CodecType] += n
		st, _ := strconv.ParseFloat(s.StartTime, 64)
		pr.Starts[s.CodecType] = time.Duration(st * float64(time.Second))
	}
	return pr
}

// stallSpool makes every spool write of rec's writers wait while the
// returned mutex is held, as a stuck disk would. Call it before recording.
func stallSpool(rec *Recorder) *sync.Mutex {
	mu := &sync.Mutex{}
	rec.segs = stalledSpool{segmentSpool: rec.segs, mu: mu}
	return mu
}

// stalledSpool wraps the real spool; its segments' writes take mu.
type stalledSpool struct {
	segmentSpool
	mu *sync.Mutex
}

func (s stalledSpool) Open(cam string, start time.Time, init []byte, initHash, codec string) (segmentFile, error) {
	sg, err := s.segmentSpool.Open(cam, start, init, initHash, codec)
	if err != nil {
		return nil, err
	}
	return stalledSegment{segmentFile: sg, mu: s.mu}, nil
}

type stalledSegment struct {
	segmentFile
	mu *sync.Mutex
}

func (s stalledSegment) WriteAt(b []byte, off int64) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.segmentFile.WriteAt(b, off)
}

// bytesReaderAt reads from a byte slice.
func bytesReaderAt(b []byte) io.ReaderAt { return bytes.NewReader(b) }
