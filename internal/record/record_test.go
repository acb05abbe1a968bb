package record

import (
	"context"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/fmp4"
	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/spool"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/testenv"
)

// checkSegments verifies stored objects against their index rows: objects
// exist with the row's size, the fragment table matches the moof boxes, and
// ffprobe decodes init+segment with the expected codecs and duration. It
// returns the total video packets ffprobe counted.
func checkSegments(t *testing.T, st blob.Store, rows []store.Segment, wantCodecs []string) int {
	t.Helper()
	keyRe := regexp.MustCompile(`^cam/cam1/\d{4}/\d{2}/\d{2}/\d+\.m4s$`)
	videoPackets := 0
	for i, row := range rows {
		if !keyRe.MatchString(row.Key) || row.Key != spool.SegmentKey("cam1", row.Start) {
			t.Errorf("row %d key %q", i, row.Key)
		}
		seg := getObject(t, st, row.Key)
		if int64(len(seg)) != row.Size {
			t.Errorf("row %d size %d, object has %d bytes", i, row.Size, len(seg))
		}
		offs, sizes := fmp4.ScanFragments(bytesReaderAt(seg), int64(len(seg)))
		if len(offs) != len(row.Fragments) {
			t.Fatalf("row %d: %d fragments in the table, %d moof+mdat in the object", i, len(row.Fragments), len(offs))
		}
		var sum time.Duration
		for j, f := range row.Fragments {
			if f.Offset != offs[j] || f.Size != sizes[j] {
				t.Errorf("row %d fragment %d at %d+%d, object has %d+%d", i, j, f.Offset, f.Size, offs[j], sizes[j])
			}
			if f.Start != sum {
				t.Errorf("row %d fragment %d starts at %v, want %v", i, j, f.Start, sum)
			}
			if f.Duration <= 0 || f.Duration > 1100*time.Millisecond {
				t.Errorf("row %d fragment %d lasts %v, want about 1s", i, j, f.Duration)
			}
			sum += f.Duration
		}
		if !row.Fragments[0].Key {
			t.Errorf("row %d does not start with a keyframe", i)
		}
		if d := row.End.Sub(row.Start); d != sum {
			t.Errorf("row %d spans %v, fragments %v", i, d, sum)
		}
		init := getObject(t, st, row.InitKey)
		pr := probe(t, init, seg)
		if !slices.Equal(pr.Codecs, wantCodecs) {
			t.Errorf("row %d: ffprobe sees %v, want %v", i, pr.Codecs, wantCodecs)
		}
		if d := pr.Duration - row.End.Sub(row.Start); d < -2*time.Second || d > 2*time.Second {
			t.Errorf("row %d: ffprobe duration %v, row %v", i, pr.Duration, row.End.Sub(row.Start))
		}
		// 25 fps: every frame of the row's span is in the object.
		if want := int(row.End.Sub(row.Start).Seconds()*25 + 0.5); pr.Packets["video"] != want {
			t.Errorf("row %d: %d video packets, want %d", i, pr.Packets["video"], want)
		}
		if a, ok := pr.Starts["audio"]; ok {
			if d := a - pr.Starts["video"]; d < -30*time.Millisecond || d > 30*time.Millisecond {
				t.Errorf("row %d: audio starts %v after video: out of sync", i, d)
			}
		}
		videoPackets += pr.Packets["video"]
	}
	return videoPackets
}

func TestRecordH264(t *testing.T) {
	e := newEnv(t, nil)
	e.run(t)
	smp := testenv.Sample(t, "sample-h264.ts")
	f := startRecording(t, e.rec, "cam1", smp)
	f.feed(0, 3) // 30 s
	if err := f.end(); err != nil {
		t.Fatalf("Record: %v", err)
	}
	drain(t, e.rec)

	rows := e.index.sorted()
	// 2 s GOPs, 4 s segments: 7 full segments and the last 2 s closed at stream end.
	if len(rows) != 8 {
		t.Fatalf("%d index rows, want 8", len(rows))
	}
	var total time.Duration
	for i, row := range rows {
		total += row.End.Sub(row.Start)
		if i > 0 && !row.Start.Equal(rows[i-1].End) {
			t.Errorf("row %d starts at %v, previous ended at %v", i, row.Start, rows[i-1].End)
		}
		if !strings.HasPrefix(row.Codec, "avc1.4d") || !strings.HasSuffix(row.Codec, ",mp4a.40.2") {
			t.Errorf("row %d codec %q", i, row.Codec)
		}
		if row.CameraID != "cam1" || row.InitKey != rows[0].InitKey {
			t.Errorf("row %d camera %q init %q", i, row.CameraID, row.InitKey)
		}
	}
	if !rows[0].Start.Equal(epoch) || total != 30*time.Second {
		t.Errorf("recorded from %v for %v, want from %v for 30s", rows[0].Start, total, epoch)
	}
	if got := checkSegments(t, e.store, rows, []string{"h264", "aac"}); got != 750 {
		t.Errorf("%d video frames stored, want 750", got)
	}

	// One init object, named by its hash.
	var inits []string
	e.store.List(context.Background(), "cam/cam1/init/", func(k string, _ int64) error {
		inits = append(inits, k)
		return nil
	})
	if len(inits) != 1 || !regexp.MustCompile(`^cam/cam1/init/[0-9a-f]{16}\.mp4$`).MatchString(inits[0]) {
		t.Errorf("init objects %v, want one", inits)
	}

	if n, b := e.rec.Pending(); n != 0 || b != 0 {
		t.Errorf("Pending() = %d, %d after drain", n, b)
	}
	if left := testenv.Files(t, e.spool); len(left) != 0 {
		t.Errorf("spool not empty after upload: %v", left)
	}
	if got := counter(t, e.reg, "camcloud_record_segments_uploaded_total"); got != 8 {
		t.Errorf("segments_uploaded_total = %v", got)
	}
	var size int64
	for _, row := range rows {
		size += row.Size
	}
	if got := counter(t, e.reg, "camcloud_record_uploaded_bytes_total"); got != float64(size) {
		t.Errorf("uploaded_bytes_total = %v, want %d", got, size)
	}
	if got := counter(t, e.reg, "camcloud_record_frames_recorded_total"); got < 750 {
		t.Errorf("frames_recorded_total = %v", got)
	}
	if got := counter(t, e.reg, "camcloud_record_spool_bytes"); got != 0 {
		t.Errorf("spool_bytes = %v after drain", got)
	}
	if err := e.rec.Record(context.Background(), f.stream); err != ErrDraining {
		t.Errorf("Record after Drain = %v", err)
	}
}

func TestRecordH265(t *testing.T) {
	e := newEnv(t, nil)
	e.run(t)
	f := startRecording(t, e.rec, "cam1", testenv.Sample(t, "sample-h265.ts"))
	f.feed(0, 1)
	if err := f.end(); err != nil {
		t.Fatal(err)
	}
	drain(t, e.rec)
	rows := e.index.sorted()
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2 (4 s + 2 s)", len(rows))
	}
	for _, row := range rows {
		if !strings.HasPrefix(row.Codec, "hvc1.") || strings.Contains(row.Codec, ",") {
			t.Errorf("codec %q", row.Codec)
		}
	}
	if got := checkSegments(t, e.store, rows, []string{"hevc"}); got != 150 {
		t.Errorf("%d video frames stored, want 150", got)
	}
}

func TestUploadRetriesWhileStoreAndIndexAreDown(t *testing.T) {
	e := newEnv(t, nil)
	e.store.down.Store(true)
	e.index.fails = 5
	e.run(t)
	f := startRecording(t, e.rec, "cam1", testenv.Sample(t, "sample-h264.ts"))
	f.feed(0, 2)
	if err := f.end(); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, "failed uploads", func() bool { return e.store.failures.Load() >= 10 })
	if n, _ := e.rec.Pending(); n != 5 {
		t.Errorf("%d segments pending while the store is down, want 5", n)
	}
	if rows := e.index.sorted(); len(rows) != 0 {
		t.Errorf("%d index rows written before their upload", len(rows))
	}
	e.store.down.Store(false)
	drain(t, e.rec)
	rows := e.index.sorted()
	if len(rows) != 5 {
		t.Fatalf("%d rows, want 5", len(rows))
	}
	if got := checkSegments(t, e.store, rows, []string{"h264", "aac"}); got != 500 {
		t.Errorf("%d video frames stored, want 500", got)
	}
	if got := counter(t, e.reg, "camcloud_record_upload_failures_total"); got < 15 {
		t.Errorf("upload_failures_total = %v, want >= 15", got)
	}
}

func TestSpoolBoundDropsOldest(t *testing.T) {
	const max = 2_500_000 // about two 4 s segments of the 2 Mbit/s sample
	e := newEnv(t, func(c *Config) { c.MaxSpoolBytes = max })
	f := startRecording(t, e.rec, "cam1", testenv.Sample(t, "sample-h264.ts"))
	f.feed(0, 3) // 30 s, about 7.5 MB, no uploader running
	if err := f.end(); err != nil {
		t.Fatal(err)
	}
	n, b := e.rec.Pending()
	if b > max || n < 1 {
		t.Errorf("Pending() = %d segments, %d bytes, want at most %d bytes", n, b, max)
	}
	if got := counter(t, e.reg, "camcloud_record_spool_dropped_segments_total"); got < 4 {
		t.Errorf("spool_dropped_segments_total = %v, want >= 4", got)
	}
	e.run(t)
	drain(t, e.rec)
	rows := e.index.sorted()
	if len(rows) == 0 || len(rows) > 3 {
		t.Fatalf("%d rows uploaded", len(rows))
	}
	// The newest video was kept: the last row ends at the end of the feed.
	if end := rows[len(rows)-1].End; !end.Equal(epoch.Add(30 * time.Second)) {
		t.Errorf("last kept segment ends at %v, want %v", end, epoch.Add(30*time.Second))
	}
	checkSegments(t, e.store, rows, []string{"h264", "aac"})
}

// TestSpoolPressureClosesSegmentsEarly: open segments count against the
// spool bound, so with long segments a busy server could fill it while the
// store is healthy. Above 3/4 of the bound segments close early (at 10 s at
// least), upload, and nothing is dropped.
func TestSpoolPressureClosesSegmentsEarly(t *testing.T) {
	const max = 8_000_000 // pressure from 6 MB: about 24 s of the 2 Mbit/s sample
	e := newEnv(t, func(c *Config) {
		c.MaxSpoolBytes = max
		c.SegmentDuration = time.Minute
	})
	e.run(t)
	f := startRecording(t, e.rec, "cam1", testenv.Sample(t, "sample-h264.ts"))
	f.uploadsKeepUp() // 60 s, uploads catching up as they would in real time
	f.feed(0, 6)
	if err := f.end(); err != nil {
		t.Fatal(err)
	}
	drain(t, e.rec)
	if got := counter(t, e.reg, "camcloud_record_spool_dropped_segments_total"); got != 0 {
		t.Errorf("spool_dropped_segments_total = %v, want 0", got)
	}
	rows := e.index.sorted()
	if len(rows) < 3 {
		t.Fatalf("%d rows for 60 s of 1 min segments under spool pressure, want at least 3", len(rows))
	}
	var total time.Duration
	for i, row := range rows {
		d := row.End.Sub(row.Start)
		total += d
		if i > 0 && !row.Start.Equal(rows[i-1].End) {
			t.Errorf("row %d starts at %v, previous ended at %v", i, row.Start, rows[i-1].End)
		}
		if i < len(rows)-1 && (d < minPressedSegment || d >= time.Minute) {
			t.Errorf("row %d lasts %v, want an early close within [%v, 1m)", i, d, minPressedSegment)
		}
		if row.Size > max*3/4+1_400_000 { // the mark, a fragment and a GOP
			t.Errorf("row %d is %d bytes, more than the pressure mark plus two GOPs", i, row.Size)
		}
	}
	if total != time.Minute {
		t.Errorf("recorded %v, want 1m", total)
	}
	if got := counter(t, e.reg, "camcloud_record_segments_closed_early_total"); got < 2 {
		t.Errorf("segments_closed_early_total = %v, want >= 2", got)
	}
	checkSegments(t, e.store, rows, []string{"h264", "aac"})
}

func TestOverflowReattaches(t *testing.T) {
	var mu sync.Mutex
	var lost []lostRange
	e := newEnv(t, func(c *Config) {
		c.SegmentDuration = 60 * time.Second
		c.OnVideoLost = func(cam string, start, end time.Time, reason string) {
			mu.Lock()
			defer mu.Unlock()
			lost = append(lost, lostRange{start, end, reason})
		}
	})
	stall := stallSpool(e.rec)
	smp := testenv.Sample(t, "sample-h264.ts")
	f := startRecording(t, e.rec, "cam1", smp)
	f.feed(0, 1)
	// Stall the recorder (its next spool write waits for the lock) and
	// write more than its hub buffer holds.
	stall.Lock()
	for k := 1; k < 5; k++ {
		for _, u := range smp.Loop(k) {
			u.NTP = epoch.Add(ticksToDur(u.DTS, smp.Tracks[u.Track-1].ClockRate))
			f.stream.Write(u)
		}
	}
	stall.Unlock()
	testenv.WaitFor(t, "the overflow to be counted", func() bool {
		return counter(t, e.reg, "camcloud_record_overflow_drops_total") == 1
	})
	testenv.WaitFor(t, "the recorder to reattach", func() bool { return e.rec.readers.Load() == 1 })
	f.written = e.rec.consumed.Load()
	f.feed(5, 1)
	if err := f.end(); err != nil {
		t.Fatal(err)
	}
	e.run(t)
	drain(t, e.rec)
	rows := e.index.sorted()
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2 (before and after the overflow)", len(rows))
	}
	if !rows[1].Start.Equal(epoch.Add(50 * time.Second)) {
		t.Errorf("recording resumed at %v, want at the next keyframe %v", rows[1].Start, epoch.Add(50*time.Second))
	}
	checkSegments(t, e.store, rows, []string{"h264", "aac"})
	// The hole is reported (a recording.gap on a camera server), from
	// the last frame kept to where recording resumed.
	mu.Lock()
	defer mu.Unlock()
	if len(lost) != 1 || lost[0].reason != ReasonBehind || lost[0].start.Before(rows[0].End.Add(-time.Second)) || lost[0].start.After(rows[0].End) ||
		!lost[0].end.Equal(rows[1].Start) {
		t.Errorf("video lost to the overflow reported as %+v, want one %s range from about %v to %v", lost, ReasonBehind, rows[0].End, rows[1].Start)
	}
}

func TestRecordRejectsBadInput(t *testing.T) {
	e := newEnv(t, nil)
	smp := testenv.Sample(t, "sample-h264.ts")
	h := hub.New()
	for _, cam := range []string{"", "../etc", "a/b", ".hidden", strings.Repeat("x", 200)} {
		if err := e.rec.Record(context.Background(), h.Publish(cam, smp.Tracks)); err == nil {
			t.Errorf("Record accepted camera id %q", cam)
		}
	}
	unsupported := []hub.Track{{ID: 1, Codec: &codecs.MPEG1Video{}, ClockRate: 90000}}
	if err := e.rec.Record(context.Background(), h.Publish("cam2", unsupported)); err == nil {
		t.Error("Record accepted a stream without a recordable track")
	}
}

// BenchmarkRecordFrame measures the cost of one access unit (video frame or
// AAC frame) through the hub and the recorder into the spool, fdatasync
// included; uploads are not running.
func BenchmarkRecordFrame(b *testing.B) {
	smp := testenv.Sample(b, "sample-h264.ts")
	e := newEnv(b, func(c *Config) {
		c.SegmentDuration = time.Minute
		c.MaxSpoolBytes = 1 << 40
	})
	f := startRecording(b, e.rec, "cam1", smp)
	cpu0 := cpuTime()
	b.ReportAllocs()
	b.ResetTimer()
	for k := 0; f.written < int64(b.N); k++ {
		for _, u := range smp.Loop(k) {
			if f.written == int64(b.N) {
				break
			}
			u.NTP = epoch.Add(ticksToDur(u.DTS, smp.Tracks[u.Track-1].ClockRate))
			f.stream.Write(u)
			f.written++
			if f.written%256 == 0 {
				f.waitConsumed(f.written - 1024)
			}
		}
	}
	f.waitConsumed(f.written)
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/frame")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
	if err := f.end(); err != nil {
		b.Fatal(err)
	}
}

func TestDrainClosesOpenSegments(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.SegmentDuration = time.Minute })
	e.run(t)
	f := startRecording(t, e.rec, "cam1", testenv.Sample(t, "sample-h264.ts"))
	f.feed(0, 1)
	if n, _ := e.rec.Pending(); n != 1 {
		t.Fatalf("%d segments pending while recording, want the open one", n)
	}
	drain(t, e.rec)
	select {
	case err := <-f.errc:
		if err != nil {
			t.Errorf("Record returned %v on drain", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Record did not return on drain")
	}
	rows := e.index.sorted()
	if len(rows) != 1 || rows[0].End.Sub(rows[0].Start) != 10*time.Second {
		t.Fatalf("rows %+v, want one of 10 s", rows)
	}
	checkSegments(t, e.store, rows, []string{"h264", "aac"})
}

// Wall-clock jitter in NTP times must not open gaps between the segments
// of one recording: rows stay contiguous, each starting within the
// tolerance of its first sample's wall-clock time.
func TestSegmentsContiguousDespiteClockJitter(t *testing.T) {
	e := newEnv(t, nil)
	e.run(t)
	smp := testenv.Sample(t, "sample-h264.ts")
	f := startRecording(t, e.rec, "cam1", smp)
	for i, u := range smp.Loop(0) {
		jitter := time.Duration(i%7-3) * 30 * time.Millisecond
		u.NTP = epoch.Add(ticksToDur(u.DTS, smp.Tracks[u.Track-1].ClockRate) + jitter)
		f.stream.Write(u)
		f.written++
	}
	f.waitConsumed(f.written)
	if err := f.end(); err != nil {
		t.Fatal(err)
	}
	drain(t, e.rec)
	rows := e.index.sorted()
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3", len(rows))
	}
	for i := 1; i < len(rows); i++ {
		if !rows[i].Start.Equal(rows[i-1].End) {
			t.Errorf("row %d starts at %v, previous ended at %v", i, rows[i].Start, rows[i-1].End)
		}
	}
}

// Malformed units from a publisher must not crash the recorder nor stop
// it: the good video around them is still recorded and playable.
func TestRecordSurvivesBadUnits(t *testing.T) {
	e := newEnv(t, nil)
	e.run(t)
	smp := testenv.Sample(t, "sample-h264.ts")
	f := startRecording(t, e.rec, "cam1", smp)
	bad := []*hub.Unit{
		{Track: 1, DTS: 0, Key: true, Payload: nil},
		{Track: 1, DTS: 0, Key: true, Payload: [][]byte{{}}},
		{Track: 9, DTS: 5, Key: true, Payload: [][]byte{{1, 2, 3}}},
		{Track: 1, DTS: 10, PTS: 5, Key: true, Payload: [][]byte{{0x67, 0xff, 0xff}, {0x68, 0xee}, {0x65, 1, 2, 3}}}, // garbage SPS/PPS
		{Track: 2, DTS: -100, Key: true, Payload: [][]byte{{0x21, 0x10}}},
		{Track: 1, DTS: 1 << 40, Key: false, Payload: [][]byte{{0x41, 9, 9}}},
	}
	for _, u := range bad {
		f.stream.Write(u)
		f.written++
	}
	f.feed(0, 1)
	for _, u := range bad { // again, mid-recording
		f.stream.Write(u)
		f.written++
	}
	f.feed(2, 1) // a step forward in time of one loop
	if err := f.end(); err != nil {
		t.Fatal(err)
	}
	drain(t, e.rec)
	// The garbage keyframes are stored as they came (one-frame segments);
	// the sample's two passes are whole.
	var rows []store.Segment
	var total time.Duration
	for _, r := range e.index.sorted() {
		if r.End.Sub(r.Start) >= time.Second {
			rows = append(rows, r)
			total += r.End.Sub(r.Start)
		}
	}
	if len(rows) != 6 || total != 20*time.Second {
		t.Errorf("%d rows of %v, want 6 rows of 20 s", len(rows), total)
	}
	inits := 0
	e.store.List(context.Background(), "cam/cam1/init/", func(string, int64) error { inits++; return nil })
	if inits != 1 {
		t.Errorf("%d init objects: the garbage parameter sets were used", inits)
	}
	checkSegments(t, e.store, rows, []string{"h264", "aac"})
}

// An audio-only stream (G.711 decoded to LPCM by ingest) is recorded with
// the audio as lead track.
func TestRecordAudioOnlyLPCM(t *testing.T) {
	e := newEnv(t, nil)
	e.run(t)
	tracks := []hub.Track{{ID: 1, Codec: &codecs.LPCM{BitDepth: 16, SampleRate: 8000, ChannelCount: 1}, ClockRate: 8000}}
	s := hub.New().Publish("cam1", tracks)
	errc := make(chan error, 1)
	go func() { errc <- e.rec.Record(context.Background(), s) }()
	testenv.WaitFor(t, "the recorder to attach", func() bool { return e.rec.readers.Load() == 1 })
	frame := make([]byte, 320) // 20 ms of silence
	for i := range 500 {       // 10 s
		dts := int64(i * 160)
		s.Write(&hub.Unit{Track: 1, DTS: dts, PTS: dts, Key: true, NTP: epoch.Add(ticksToDur(dts, 8000)),
			Payload: [][]byte{frame}})
	}
	testenv.WaitFor(t, "the recorder to consume", func() bool { return e.rec.consumed.Load() == 500 })
	s.Close()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	drain(t, e.rec)
	rows := e.index.sorted()
	var total time.Duration
	for _, row := range rows {
		total += row.End.Sub(row.Start)
		if row.Codec != "ipcm" {
			t.Errorf("codec %q", row.Codec)
		}
		for j, f := range row.Fragments { // every frame is a sync sample: cut every fragment duration
			if f.Duration != time.Second || !f.Key {
				t.Errorf("row %v fragment %d lasts %v (key %v), want 1s", row.Start, j, f.Duration, f.Key)
			}
		}
		pr := probe(t, getObject(t, e.store, row.InitKey), getObject(t, e.store, row.Key))
		if !slices.Equal(pr.Codecs, []string{"pcm_s16be"}) {
			t.Errorf("ffprobe sees %v", pr.Codecs)
		}
	}
	if len(rows) != 3 || total != 10*time.Second {
		t.Errorf("%d rows of %v, want 3 of 10 s", len(rows), total)
	}
}

// gatedStore holds every Put until open is closed: uploads in flight,
// which the spool may not drop.
type gatedStore struct {
	blob.Store
	open    chan struct{}
	waiting atomic.Int32 // Puts held
}

func (g *gatedStore) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	g.waiting.Add(1)
	defer g.waiting.Add(-1)
	select {
	case <-g.open:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.Store.Put(ctx, key, r, size)
}

// lostRange is one call of Config.OnVideoLost.
type lostRange struct {
	start, end time.Time
	reason     string
}

// TestFullSpoolLosingNewVideoSaysSo: when the spool is full and the
// segments in it are being uploaded (nothing it may drop), new video is
// lost until there is room again, and OnVideoLost is told of every such
// range with the reason spool_full_new: each hole in the index is exactly
// what was reported lost or dropped (OnSpoolDrop), ranges that meet merged.
func TestFullSpoolLosingNewVideoSaysSo(t *testing.T) {
	const max = 3_000_000 // about 12 s of the 2 Mbit/s sample
	gate := &gatedStore{open: make(chan struct{})}
	var mu sync.Mutex
	var lost, dropped []lostRange
	e := newEnv(t, func(c *Config) {
		c.MaxSpoolBytes = max
		c.UploadWorkers = 8
		gate.Store = c.Store
		c.Store = gate
		c.OnVideoLost = func(cam string, start, end time.Time, reason string) {
			mu.Lock()
			defer mu.Unlock()
			lost = append(lost, lostRange{start, end, reason})
		}
		c.OnSpoolDrop = func(cam string, start, end time.Time) {
			mu.Lock()
			defer mu.Unlock()
			dropped = append(dropped, lostRange{start, end, "spool_full"})
		}
	})
	e.run(t)
	f := startRecording(t, e.rec, "cam1", testenv.Sample(t, "sample-h264.ts"))
	f.feed(0, 1) // 10 s: two segments closed, their uploads held
	testenv.WaitFor(t, "the closed segments' uploads to be held", func() bool {
		n, _ := e.rec.Pending()
		return int(gate.waiting.Load()) == n-1
	})
	f.feed(1, 1) // 10 s more, about 2.5 MB, with nothing the spool may drop
	close(gate.open)
	f.uploadsKeepUp()
	f.every()
	f.feed(2, 2) // 20 s more
	if err := f.end(); err != nil {
		t.Fatal(err)
	}
	drain(t, e.rec)
	rows := e.index.sorted()
	mu.Lock()
	defer mu.Unlock()
	if len(lost) == 0 {
		t.Fatal("new video was lost for want of room, OnVideoLost was not called")
	}
	for _, l := range lost {
		if l.reason != ReasonSpoolFullNew || !l.end.After(l.start) {
			t.Errorf("loss %v..%v reason %q, want a range and %q", l.start, l.end, l.reason, ReasonSpoolFullNew)
		}
	}
	// A segment closed while the spool was full may be dropped before its
	// upload starts (OnSpoolDrop): ranges that meet are one hole.
	all := append(slices.Clone(lost), dropped...)
	slices.SortFunc(all, func(a, b lostRange) int { return a.start.Compare(b.start) })
	var merged []lostRange
	for _, l := range all {
		if k := len(merged) - 1; k >= 0 && !l.start.After(merged[k].end) {
			if l.end.After(merged[k].end) {
				merged[k].end = l.end
			}
			continue
		}
		merged = append(merged, l)
	}
	holes := 0
	for i := 1; i < len(rows); i++ {
		from, to := rows[i-1].End, rows[i].Start
		if !to.After(from) {
			continue
		}
		holes++
		if !slices.ContainsFunc(merged, func(l lostRange) bool { return l.start.Equal(from) && l.end.Equal(to) }) {
			t.Errorf("a hole %v..%v in the index, not what was reported lost or dropped: %v", from, to, merged)
		}
	}
	if holes != len(merged) {
		t.Errorf("%d holes in the index, %d ranges reported lost or dropped: %v", holes, len(merged), merged)
	}
	if end := rows[len(rows)-1].End; !end.Equal(epoch.Add(40 * time.Second)) {
		t.Errorf("recorded until %v, want %v: recording did not resume", end, epoch.Add(40*time.Second))
	}
	t.Logf("%d rows, %d losses of new video, %d segments dropped, %d holes", len(rows), len(lost), len(dropped), holes)
	checkSegments(t, e.store, rows, []string{"h264", "aac"})
}
