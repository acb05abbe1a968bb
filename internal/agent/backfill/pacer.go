package backfill

import (
	"context"
	"io"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Pacer shares one uplink cap between the live relay and backfill: a token
// bucket (golang.org/x/time/rate) of the cap in bytes per second. Live
// relay bytes are taken from it after they were sent, never waited for
// (Live), so live is never delayed; backfill waits for its bytes (Wait),
// so it gets the cap minus what live used. A nil or uncapped Pacer lets
// everything through at once.
type Pacer struct {
	lim   *rate.Limiter // nil: no cap
	burst int
	now   func() time.Time

	mu    sync.Mutex
	meter meter // live and backfill bytes sent, for upload_bps
}

// piece is the most bytes one Wait takes: backfill is sent in pieces of
// at most this, so it cannot get ahead of the live relay by more.
const piece = 16 << 10

// NewPacer makes a Pacer for a cap of bps bits per second (0: no cap).
func NewPacer(bps int64) *Pacer {
	p := &Pacer{now: time.Now}
	if bps > 0 {
		perSec := float64(bps) / 8
		// The bucket holds a tenth of a second of the cap, and at least
		// one piece (a Wait larger than the burst would never pass).
		p.burst = max(piece, int(perSec/10))
		p.lim = rate.NewLimiter(rate.Limit(perSec), p.burst)
	}
	return p
}

// Live takes n bytes that the live relay sent from the bucket, at once.
// The bucket may go into debt for them, by at most one burst, so that a
// live stream above the cap starves backfill rather than piling up a
// debt that would stall it long after the live stream calmed down.
func (p *Pacer) Live(n int) {
	if p == nil || n <= 0 {
		return
	}
	now := p.now()
	p.mu.Lock()
	p.meter.add(now, n)
	p.mu.Unlock()
	for p.lim != nil && n > 0 && p.lim.TokensAt(now) > -float64(p.burst) {
		k := min(n, p.burst)
		p.lim.ReserveN(now, k) // not waited for, not cancelled: live was sent
		n -= k
	}
}

// Wait blocks until n backfill bytes may be sent (n is cut into pieces),
// or ctx ends, and counts them as sent.
func (p *Pacer) Wait(ctx context.Context, n int) error {
	for n > 0 {
		k := min(n, piece)
		if p != nil && p.lim != nil {
			if err := p.lim.WaitN(ctx, k); err != nil {
				return err
			}
		}
		if p != nil {
			p.mu.Lock()
			p.meter.add(p.now(), k)
			p.mu.Unlock()
		}
		n -= k
	}
	return ctx.Err()
}

// BitsPerSecond is the upload rate (live and backfill) over the last few
// seconds.
func (p *Pacer) BitsPerSecond() int64 {
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.meter.rate(p.now()) * 8
}

// Reader paces r's bytes through p as they are read: each Read waits, before
// it returns, for the bytes it read (at most one piece per Read).
func (p *Pacer) Reader(ctx context.Context, r io.Reader) io.Reader {
	return &pacedReader{ctx: ctx, p: p, r: r}
}

type pacedReader struct {
	ctx context.Context
	p   *Pacer
	r   io.Reader
}

func (pr *pacedReader) Read(b []byte) (int, error) {
	if len(b) > piece {
		b = b[:piece]
	}
	n, err := pr.r.Read(b)
	if werr := pr.p.Wait(pr.ctx, n); werr != nil {
		return 0, werr
	}
	return n, err
}

// meter counts bytes in one-second buckets over the last meterWindow
// seconds.
type meter struct {
	sec   [meterWindow + 1]int64
	stamp [meterWindow + 1]int64 // the Unix second each bucket counts
}

const meterWindow = 5

func (m *meter) add(now time.Time, n int) {
	s := now.Unix()
	i := s % int64(len(m.sec))
	if m.stamp[i] != s {
		m.stamp[i], m.sec[i] = s, 0
	}
	m.sec[i] += int64(n)
}

// rate is the bytes per second over the last meterWindow whole seconds.
func (m *meter) rate(now time.Time) int64 {
	s := now.Unix()
	var total int64
	for k := int64(1); k <= meterWindow; k++ {
		i := (s - k) % int64(len(m.sec))
		if i < 0 {
			i += int64(len(m.sec))
		}
		if m.stamp[i] == s-k {
			total += m.sec[i]
		}
	}
	return total / meterWindow
}
