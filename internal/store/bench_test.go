package store

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// benchEngines runs fn against a new database of each engine.
func benchEngines(b *testing.B, fn func(b *testing.B, dsn string)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, sqliteDSN(b)) })
	b.Run("mysql", func(b *testing.B) { fn(b, mysqlDSN(b)) })
}

// benchSegment is a realistic 60 s segment: 60 fragments of 1 s.
func benchSegment(camera string, start time.Time) Segment {
	frags := make([]Fragment, 60)
	for i := range frags {
		frags[i] = Fragment{Offset: int64(i) * 150_000, Size: 150_000, Start: time.Duration(i) * time.Second, Duration: time.Second, Key: true}
	}
	return Segment{
		CameraID: camera, Start: start, End: start.Add(time.Minute), Size: 9_000_000,
		Key:     fmt.Sprintf("zone1/%s/%d.m4s", camera, start.UnixMicro()),
		InitKey: "zone1/" + camera + "/init-1.mp4", Codec: "avc1.64001f,mp4a.40.2", Fragments: frags,
	}
}

func BenchmarkInsertSegment(b *testing.B) {
	benchEngines(b, func(b *testing.B, dsn string) {
		z := openZone(b, dsn)
		ctx := ctxT(b)
		start := t0
		b.ReportAllocs()
		for b.Loop() {
			start = start.Add(time.Minute)
			if err := z.InsertSegment(ctx, benchSegment("bench-cam", start)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// listBenchSegments is how many segments the camera read by
// BenchmarkListSegments has (about 35 days of 60 s segments).
const listBenchSegments = 50_000

func BenchmarkListSegments(b *testing.B) {
	benchEngines(b, func(b *testing.B, dsn string) {
		z := openZone(b, dsn)
		ctx := ctxT(b)
		r := z.(*zone)
		// Fill in one transaction; a neighbour camera on each side makes
		// sure the range read stays within its camera.
		tx, err := r.db.BeginTx(ctx, nil)
		must(b, err)
		for _, cam := range []string{"bench-a", "bench-b", "bench-c"} {
			n := listBenchSegments
			if cam != "bench-b" {
				n = 1000
			}
			for i := 0; i < n; i++ {
				must(b, r.insertSegment(ctx, tx, benchSegment(cam, t0.Add(time.Duration(i)*time.Minute))))
			}
		}
		must(b, tx.Commit())
		rng := rand.New(rand.NewPCG(1, 2))
		span := time.Duration(listBenchSegments-60) * time.Minute
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			from := t0.Add(time.Duration(rng.Int64N(int64(span))))
			segs, err := z.ListSegments(ctx, "bench-b", from, from.Add(time.Hour), 0)
			if err != nil {
				b.Fatal(err)
			}
			if len(segs) < 60 || len(segs) > 61 {
				b.Fatalf("got %d segments for one hour", len(segs))
			}
		}
	})
}

func BenchmarkSpans(b *testing.B) {
	benchEngines(b, func(b *testing.B, dsn string) {
		z := openZone(b, dsn)
		ctx := ctxT(b)
		r := z.(*zone)
		tx, err := r.db.BeginTx(ctx, nil)
		must(b, err)
		const n = 24 * 60 * 7 // a week
		for i := 0; i < n; i++ {
			must(b, r.insertSegment(ctx, tx, benchSegment("spans", t0.Add(time.Duration(i)*time.Minute))))
		}
		must(b, tx.Commit())
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			// The timeline of one day.
			spans, err := z.Spans(ctx, "spans", t0.Add(48*time.Hour), t0.Add(72*time.Hour), 5*time.Second)
			if err != nil || len(spans) != 1 {
				b.Fatalf("Spans = %v, %v", spans, err)
			}
		}
	})
}
