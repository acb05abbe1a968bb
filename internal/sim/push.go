package sim

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/camcloud/camcloud/internal/ingest"
	"github.com/camcloud/camcloud/internal/sample"
)

// Reconnect delays of a pushing camera.
const (
	minBackoff = time.Second
	maxBackoff = 30 * time.Second
	// quickRetry is the delay after a session that did send media, so that a
	// camera dropped by a draining server comes back at once elsewhere.
	quickRetry = 250 * time.Millisecond
)

// Push runs one camera pushing smp to urls[0] until ctx ends. When a session
// fails it moves on to the next URL (a camera behind a load balancer) and
// backs off exponentially (1 s to 30 s, with jitter) while nothing works.
func Push(ctx context.Context, urls []string, smp *sample.Sample, log *slog.Logger) error {
	return PushStats(ctx, urls, smp, log, nil)
}

// PushStats is Push counting into st (which may be nil). It returns nil when
// ctx ends.
func PushStats(ctx context.Context, urls []string, smp *sample.Sample, log *slog.Logger, st *Stats) error {
	return pushStats(ctx, urls, smp, log, st, 0)
}

// pushStats is PushStats; grace is as in publishOnce.
func pushStats(ctx context.Context, urls []string, smp *sample.Sample, log *slog.Logger, st *Stats, grace time.Duration) error {
	if len(urls) == 0 {
		return errors.New("sim: no URL to push to")
	}
	if smp == nil {
		return errors.New("sim: no sample")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if st == nil {
		st = &Stats{}
	}
	backoff := minBackoff
	for i := 0; ; i++ {
		u := urls[i%len(urls)]
		if i > 0 {
			st.Reconnects.Add(1)
		}
		before := st.Sessions.Load()
		err := publishOnce(ctx, u, smp, st, grace)
		if ctx.Err() != nil {
			return nil
		}
		wait := jitter(backoff)
		if st.Sessions.Load() > before {
			backoff, wait = minBackoff, quickRetry
		} else {
			backoff = min(2*backoff, maxBackoff)
		}
		log.Warn("sim camera: session ended, reconnecting", "url", ingest.RedactURL(u), "error", ingest.Redact(errString(err)),
			"next", ingest.RedactURL(urls[(i+1)%len(urls)]), "retry_in", wait.Round(time.Millisecond).String())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// jitter spreads d over [0.75 d, 1.25 d).
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.75 + rand.Float64()/2))
}

func errString(err error) string {
	if err == nil {
		return "closed by server"
	}
	return err.Error()
}
