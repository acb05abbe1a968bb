package store

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// TestUploads checks the pending backfill uploads of edge agents on every
// engine: one row per (camera, start, SHA-256) also when two requests
// race to create it, an offset that only one of two racing advances
// moves, the upload and its segment row swapped in one transaction, and
// the sweep's listing of expired uploads.
func TestUploads(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		z := openZone(t, dsn)
		ctx := ctxT(t)
		now := t0.UTC().Truncate(time.Microsecond)
		sha := "aa0000000000000000000000000000000000000000000000000000000000000f"
		u := Upload{ID: "u1", CameraID: "cam1", Start: now, End: now.Add(time.Minute), Size: 1000, SHA256: sha, InitHash: "0123456789abcdef",
			Created: now, Expires: now.Add(24 * time.Hour)}

		// Racing creations: one row, every caller gets it.
		var wg sync.WaitGroup
		created := make(chan bool, 4)
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v := u
				v.ID = []string{"u1", "u2", "u3", "u4"}[i]
				got, isNew, err := z.CreateUpload(ctx, v)
				if err != nil {
					t.Errorf("CreateUpload: %v", err)
					return
				}
				if !got.Start.Equal(now) || got.SHA256 != sha || got.Size != 1000 {
					t.Errorf("CreateUpload returned %+v", got)
				}
				created <- isNew
			}()
		}
		wg.Wait()
		close(created)
		n := 0
		for c := range created {
			if c {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d racing creations made a row, want 1", n)
		}
		got, _, err := z.CreateUpload(ctx, Upload{ID: "u9", CameraID: "cam1", Start: now, End: now.Add(time.Minute), Size: 1000, SHA256: sha,
			Created: now, Expires: now.Add(time.Hour)})
		must(t, err)
		id := got.ID
		if id == "u9" {
			t.Fatal("a second upload of the same key was created")
		}

		// Advances: fenced on the offset.
		must(t, z.AdvanceUpload(ctx, id, 0, 400))
		wantErr(t, z.AdvanceUpload(ctx, id, 0, 400), ErrConflict)
		wantErr(t, z.AdvanceUpload(ctx, id, 400, 1001), ErrConflict) // past the size
		wantErr(t, z.AdvanceUpload(ctx, "nope", 0, 1), ErrNotFound)
		var wins sync.WaitGroup
		var mu sync.Mutex
		moved := 0
		for range 4 {
			wins.Add(1)
			go func() {
				defer wins.Done()
				err := z.AdvanceUpload(ctx, id, 400, 800)
				if err == nil {
					mu.Lock()
					moved++
					mu.Unlock()
				} else if !errors.Is(err, ErrConflict) {
					t.Errorf("racing advance: %v", err)
				}
			}()
		}
		wins.Wait()
		if moved != 1 {
			t.Fatalf("%d racing advances moved the offset, want 1", moved)
		}
		if g, err := z.GetUpload(ctx, id); err != nil || g.Offset != 800 || g.InitHash != "0123456789abcdef" || !g.Expires.Equal(now.Add(24*time.Hour)) {
			t.Fatalf("GetUpload = %+v, %v", g, err)
		}

		// Finishing: the upload goes and the backfilled segment comes in one step.
		s := seg("cam1", now, 0, 60)
		s.Backfilled, s.SHA256 = true, sha
		must(t, z.FinishUpload(ctx, id, s))
		wantErr(t, z.FinishUpload(ctx, id, s), ErrNotFound)
		if _, err := z.GetUpload(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("finished upload still there: %v", err)
		}
		segs, err := z.ListSegments(ctx, "cam1", now, now.Add(time.Minute), 0)
		must(t, err)
		if len(segs) != 1 || !segs[0].Backfilled || segs[0].SHA256 != sha {
			t.Fatalf("segments after finishing: %+v", segs)
		}
		if use, err := z.CameraUsage(ctx, []string{"cam1"}); err != nil || use["cam1"].Bytes != s.Size {
			t.Fatalf("segment use %+v, %v", use, err)
		}

		// Finishing over a recorded segment: its row is replaced, fenced
		// on its key and size; the camera's use grows by the difference.
		rec := seg("cam1", now, 60, 62)
		must(t, z.InsertSegment(ctx, rec))
		for i, name := range []string{"o1", "o2", "o3"} {
			v := u
			v.ID, v.Start, v.End = name, now.Add(61*time.Second+time.Duration(i)*time.Millisecond), now.Add(63*time.Second)
			_, _, err := z.CreateUpload(ctx, v)
			must(t, err)
		}
		longer := rec
		longer.End, longer.Size, longer.Key, longer.Backfilled = now.Add(63*time.Second), rec.Size+700, "cam1/bf.m4s", true
		stale := rec
		stale.Size++
		wantErr(t, z.FinishUploadOver(ctx, "o1", longer, stale), ErrConflict)
		if _, err := z.GetUpload(ctx, "o1"); err != nil {
			t.Fatalf("a refused finish took the upload: %v", err)
		}
		must(t, z.FinishUploadOver(ctx, "o1", longer, rec))
		wantErr(t, z.FinishUploadOver(ctx, "o2", longer, rec), ErrConflict) // rec is replaced
		if got, err := z.SegmentAt(ctx, "cam1", now.Add(62*time.Second)); err != nil || got.Key != longer.Key || !got.End.Equal(longer.End) {
			t.Fatalf("segment after finishing over: %+v, %v", got, err)
		}
		if use, err := z.CameraUsage(ctx, []string{"cam1"}); err != nil || use["cam1"].Bytes != s.Size+longer.Size || use["cam1"].Segments != 2 {
			t.Fatalf("segment use after finishing over %+v, %v", use, err)
		}
		must(t, z.DeleteUpload(ctx, "o2"))
		must(t, z.DeleteUpload(ctx, "o3"))

		// Expiry: the sweep lists what expired, oldest first.
		for i, exp := range []time.Duration{-2 * time.Hour, -time.Hour, time.Hour} {
			v := u
			v.ID, v.Start, v.Expires = []string{"e1", "e2", "e3"}[i], now.Add(time.Duration(i+2)*time.Minute), now.Add(exp)
			v.End = v.Start.Add(time.Minute)
			_, _, err := z.CreateUpload(ctx, v)
			must(t, err)
		}
		old, err := z.ExpiredUploads(ctx, now, 10)
		must(t, err)
		if len(old) != 2 || old[0].ID != "e1" || old[1].ID != "e2" {
			t.Fatalf("expired uploads %+v", old)
		}
		must(t, z.DeleteUpload(ctx, "e1"))
		must(t, z.DeleteUpload(ctx, "e1"))
		if old, _ := z.ExpiredUploads(ctx, now, 10); len(old) != 1 {
			t.Fatalf("after delete: %+v", old)
		}
	})
}

// TestBackfilledSpans checks that backfilled segments make spans of their
// own, marked, that together cover exactly what the unsplit spans cover.
func TestBackfilledSpans(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		z := openZone(t, dsn)
		ctx := ctxT(t)
		base := t0.UTC().Truncate(time.Second)
		bf := func(s Segment) Segment { s.Backfilled = true; return s }
		// recorded [0,60), backfilled [61,120) [120,180) (a 1 s hole at
		// the change), recorded [180,240), a 10 s gap, backfilled [250,300).
		insertAll(t, z, seg("c", base, 0, 60), bf(seg("c", base, 61, 120)), bf(seg("c", base, 120, 180)), seg("c", base, 180, 240),
			bf(seg("c", base, 250, 300)))
		got, err := z.Spans(ctx, "c", base, base.Add(400*time.Second), 2*time.Second)
		must(t, err)
		at := func(s int) time.Time { return base.Add(time.Duration(s) * time.Second) }
		want := []Span{{at(0), at(60), false}, {at(60), at(180), true}, {at(180), at(240), false}, {at(250), at(300), true}}
		if len(got) != len(want) {
			t.Fatalf("spans %+v, want %+v", got, want)
		}
		for i := range want {
			if !got[i].Start.Equal(want[i].Start) || !got[i].End.Equal(want[i].End) || got[i].Backfilled != want[i].Backfilled {
				t.Fatalf("span %d = %+v, want %+v", i, got[i], want[i])
			}
		}
	})
}
