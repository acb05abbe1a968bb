package agent_test

import (
	"context"
	"encoding/binary"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/agent"
	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/testenv"
)

// localSegments reads the agent's index of cam.
func localSegments(t *testing.T, dataDir, cam string) []store.Segment {
	z, err := store.OpenZone(context.Background(), "sqlite:"+filepath.Join(dataDir, "index.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	segs, err := z.ListSegments(context.Background(), cam, time.Time{}, time.Now().Add(time.Hour), 100000)
	if err != nil {
		t.Fatal(err)
	}
	return segs
}

// runAgent runs an agent until the returned stop is called.
func runAgent(t *testing.T, cfg agent.Config) (*agent.Agent, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	a, err := agent.New(ctx, cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var stopped bool
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent run: %v", err)
		}
	}
	t.Cleanup(stop)
	return a, stop
}

// TestAgentBackfillsWhatTheCloudLacks runs an agent without live relay
// against an in-process cloud: what it recorded while the cloud was out
// of reach is backfilled once it is back, so the cloud's timeline covers
// the local segments. One local segment damaged on disk (its first box
// size made to run past the end) is refused by the cloud as
// invalid_segment: counted once, not offered again, and the others are
// stored all the same.
func TestAgentBackfillsWhatTheCloudLacks(t *testing.T) {
	s := newSite(t)
	httpProxy := testenv.NewProxy(t, s.cloud.App.HTTPAddr())
	pull, err := sim.ServePull("127.0.0.1:0", 1, testenv.Sample(t, "sample-h264.ts"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pull.Close)
	dataDir := t.TempDir()
	cam := s.cameras[0]
	cfg := agent.Config{Cloud: "http://" + httpProxy.Addr(), AllowHTTP: true, EnrolmentToken: s.enrol, DataDir: dataDir,
		SegmentDuration: 2 * time.Second, Heartbeat: 500 * time.Millisecond, PullAllow: []string{"127.0.0.1/32"},
		Cameras:  []agent.Camera{{ID: cam, URL: pull.URL(0)}},
		Backfill: agent.Backfill{Settle: time.Second, Interval: 500 * time.Millisecond, Order: "newest"}}

	// Enrolled, then the uplink is cut while it records four segments.
	a, stop := runAgent(t, cfg)
	testenv.Eventually(t, 30*time.Second, "the agent enrolled", func() bool { return a.Status().UplinkUp })
	httpProxy.Cut()
	testenv.Eventually(t, 60*time.Second, "four local segments", func() bool { return len(localSegments(t, dataDir, cam)) >= 4 })
	stop()
	segs := localSegments(t, dataDir, cam)
	bad := segs[1]
	path := filepath.Join(dataDir, "segments", filepath.FromSlash(bad.Key))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	binary.BigEndian.PutUint32(b[:4], uint32(len(b)+1000))
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}

	// Back: the agent starts again with the uplink up and backfills.
	httpProxy.Restore()
	cfg.EnrolmentToken = ""
	a, _ = runAgent(t, cfg)
	testenv.Eventually(t, 90*time.Second, "the segments before the restart backfilled", func() bool {
		st := a.Status().Backfill
		return st.Refused == 1 && st.Uploaded >= int64(len(segs)-1)
	})
	for _, sg := range segs {
		if sg.Start.Equal(bad.Start) {
			continue
		}
		if !s.covers(t, cam, sg.Start, sg.End) {
			t.Errorf("segment %s..%s not in the cloud: spans %v", sg.Start, sg.End, s.spans(t, cam, segs[0].Start.Add(-time.Minute)))
		}
	}
	// The damaged one is not offered again over the next rounds.
	uploaded := a.Status().Backfill.Uploaded
	testenv.Eventually(t, 60*time.Second, "more rounds", func() bool { return a.Status().Backfill.Uploaded >= uploaded+2 })
	if st := a.Status().Backfill; st.Refused != 1 {
		t.Errorf("the damaged segment was refused %d times", st.Refused)
	}
}

// covers reports whether one of cam's spans in the cloud holds [from, to].
func (s site) covers(t *testing.T, cam string, from, to time.Time) bool {
	for _, sp := range s.spans(t, cam, from.Add(-time.Hour)) {
		if !sp.Start.After(from) && !sp.End.Before(to) {
			return true
		}
	}
	return false
}
