package backfill

import (
	"bytes"
	"context"
	"io"
	"math"
	"testing"
	"time"
)

// TestPacerSharesTheCap checks the bucket's arithmetic at fixed instants
// (no wall clock): live bytes are taken at once and push backfill's next
// bytes back by what they used, and the debt live may run up is bounded.
func TestPacerSharesTheCap(t *testing.T) {
	const bps = 8_000_000 // 1 MB/s
	p := NewPacer(bps)
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return now }
	p.lim.SetBurstAt(now, p.burst) // full bucket at now
	if p.burst != 100_000 {
		t.Fatalf("burst %d, want a tenth of a second of the cap", p.burst)
	}
	// An idle uplink: backfill may send the bucket at once.
	if d := p.lim.ReserveN(now, p.burst).DelayFrom(now); d != 0 {
		t.Fatalf("a full bucket delays backfill by %s", d)
	}
	// Live sends 300 kB now: the bucket goes into debt (by at most about
	// two bursts); backfill's next piece waits for the debt and itself.
	p.Live(300_000)
	tok := p.lim.TokensAt(now)
	if tok >= 0 || tok < -2*float64(p.burst) {
		t.Fatalf("tokens after live: %f, want a debt of at most two bursts", tok)
	}
	d := p.lim.ReserveN(now, piece).DelayFrom(now)
	want := time.Duration((float64(piece) - tok) / 1e6 * float64(time.Second))
	if math.Abs(float64(d-want)) > float64(time.Millisecond) {
		t.Errorf("backfill delayed %s after live, want %s", d, want)
	}
	// More live while in debt adds no more debt than the bound.
	before := p.lim.TokensAt(now)
	p.Live(10_000_000)
	if after := p.lim.TokensAt(now); after < before-float64(p.burst)-1 {
		t.Errorf("live ran the debt from %f to %f", before, after)
	}
	// Uncapped: nothing waits.
	free := NewPacer(0)
	free.Live(1 << 30)
	if err := free.Wait(context.Background(), 1<<20); err != nil {
		t.Fatal(err)
	}
}

func TestPacerMeter(t *testing.T) {
	p := NewPacer(0)
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return now }
	for range 10 {
		p.Live(250_000)                                               // live: 250 kB/s
		if err := p.Wait(context.Background(), 125_000); err != nil { // backfill: 125 kB/s
			t.Fatal(err)
		}
		now = now.Add(time.Second)
	}
	if got := p.BitsPerSecond(); got != 3_000_000 {
		t.Errorf("upload %d bit/s, want 3000000", got)
	}
	now = now.Add(time.Minute)
	if got := p.BitsPerSecond(); got != 0 {
		t.Errorf("upload %d bit/s a minute after the last byte", got)
	}
}

func TestPacedReader(t *testing.T) {
	src := bytes.Repeat([]byte("x"), 3*piece+5)
	p := NewPacer(0)
	got, err := io.ReadAll(p.Reader(context.Background(), bytes.NewReader(src)))
	if err != nil || !bytes.Equal(got, src) {
		t.Fatalf("read %d bytes, err %v", len(got), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Reader(ctx, bytes.NewReader(src)).Read(make([]byte, 10)); err == nil {
		t.Error("a cancelled reader read on")
	}
}
