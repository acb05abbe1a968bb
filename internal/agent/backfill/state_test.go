package backfill

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/store"
)

// TestStateSurvivesReopen: an upload's id and acknowledged offset, the
// refusals, the drops to report and the remembered gaps are read back after the file is
// closed and opened again (as after an agent restart).
func TestStateSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "backfill.db")
	st, err := OpenState(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 1, 12, 0, 0, 123456000, time.UTC)
	u := Upload{Camera: "c1", Start: start, SHA256: "ab", ID: "up1", Acked: 4096, Size: 10000, Chunk: 4096}
	if err := st.SaveUpload(ctx, u); err != nil {
		t.Fatal(err)
	}
	u.Acked = 8192
	if err := st.SaveUpload(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := st.Refuse(ctx, "c1", start.Add(time.Minute), "cd", "422 invalid_segment: no video"); err != nil {
		t.Fatal(err)
	}
	drop := store.Segment{CameraID: "c2", Start: start, End: start.Add(2 * time.Second), Size: 77}
	if err := st.AddDropped(ctx, []store.Segment{drop}); err != nil {
		t.Fatal(err)
	}
	gaps := []store.Span{{Start: start, End: start.Add(1500 * time.Millisecond)}, {Start: start.Add(time.Minute), End: start.Add(2 * time.Minute)}}
	if err := st.SaveGaps(ctx, "c1", gaps[:1]); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveGaps(ctx, "c1", gaps); err != nil { // replaces
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st, err = OpenState(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, ok, err := st.Upload(ctx, "c1", start)
	if err != nil || !ok || got.ID != "up1" || got.Acked != 8192 || got.Size != 10000 || got.Chunk != 4096 {
		t.Fatalf("upload after reopen: %+v %v %v", got, ok, err)
	}
	if _, ok, _ := st.Upload(ctx, "c1", start.Add(time.Second)); ok {
		t.Error("an upload found for another segment")
	}
	ref, err := st.Refused(ctx, "c1")
	if err != nil || !ref[start.Add(time.Minute).UnixMicro()] || len(ref) != 1 {
		t.Errorf("refused after reopen: %v %v", ref, err)
	}
	if got, err := st.Gaps(ctx, "c1"); err != nil || len(got) != 2 || !got[0].End.Equal(gaps[0].End) || !got[1].Start.Equal(gaps[1].Start) {
		t.Errorf("gaps after reopen: %v %v, want %v", got, err, gaps)
	}
	if got, _ := st.Gaps(ctx, "c2"); len(got) != 0 {
		t.Errorf("gaps of a camera with none: %v", got)
	}
	drops, err := st.Dropped(ctx)
	if err != nil || len(drops["c2"]) != 1 || !drops["c2"][0].End.Equal(drop.End) || drops["c2"][0].Size != 77 {
		t.Fatalf("drops after reopen: %v %v", drops, err)
	}
	if err := st.ForgetDropped(ctx, drops["c2"]); err != nil {
		t.Fatal(err)
	}
	if err := st.ForgetUpload(ctx, "c1", start); err != nil {
		t.Fatal(err)
	}
	if drops, _ := st.Dropped(ctx); len(drops) != 0 {
		t.Errorf("drops left: %v", drops)
	}
	if _, ok, _ := st.Upload(ctx, "c1", start); ok {
		t.Error("a forgotten upload is still there")
	}
}
