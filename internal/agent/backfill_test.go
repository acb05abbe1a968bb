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

// backfillAgent is the configuration of an agent at s with its first
// camera (pulled from a simulated camera), without live relay, 2 s
// segments and a quick backfill, reaching the cloud through the returned
// proxy (which the test may cut).
func (s site) backfillAgent(t *testing.T) (agent.Config, *testenv.Proxy) {
	t.Helper()
	httpProxy := testenv.NewProxy(t, s.cloud.App.HTTPAddr())
	pull, err := sim.ServePull("127.0.0.1:0", 1, testenv.Sample(t, "sample-h264.ts"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pull.Close)
	return agent.Config{Cloud: "http://" + httpProxy.Addr(), AllowHTTP: true, EnrolmentToken: s.enrol, DataDir: t.TempDir(),
		SegmentDuration: 2 * time.Second, Heartbeat: 500 * time.Millisecond, PullAllow: []string{"127.0.0.1/32"},
		Cameras:  []agent.Camera{{ID: s.cameras[0], URL: pull.URL(0)}},
		Backfill: agent.Backfill{Settle: time.Second, Interval: 500 * time.Millisecond}}, httpProxy
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
	cfg, httpProxy := s.backfillAgent(t)
	cfg.Backfill.Order = "newest"
	dataDir, cam := cfg.DataDir, cfg.Cameras[0].ID

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

// TestAgentCompletesAFailedCompletion: when the cloud takes every byte of
// a segment but cannot store it (its object store away: here a file where
// the camera's backfill directory goes), the agent completes the upload
// with a chunk of 0 bytes once the store is back, rather than sending the
// segment again; every byte it sent is in a stored segment.
func TestAgentCompletesAFailedCompletion(t *testing.T) {
	s := newSite(t)
	cfg, _ := s.backfillAgent(t)
	dataDir, cam := cfg.DataDir, cfg.Cameras[0].ID
	block := filepath.Join(s.cloud.App.Cfg.DataDir, "blobs", "local", "cam", cam, "bf")
	if err := os.MkdirAll(filepath.Dir(block), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(block, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	a, _ := runAgent(t, cfg)
	testenv.Eventually(t, 60*time.Second, "two segments' bytes sent, none stored", func() bool {
		st := a.Status().Backfill
		return st.SentBytes > 0 && len(localSegments(t, dataDir, cam)) >= 3
	})
	time.Sleep(2 * time.Second) // more failed completions
	if st := a.Status().Backfill; st.Uploaded != 0 {
		t.Fatalf("%d segments stored with the cloud's store failing", st.Uploaded)
	}
	if err := os.Remove(block); err != nil {
		t.Fatal(err)
	}
	segs := localSegments(t, dataDir, cam)
	testenv.Eventually(t, 60*time.Second, "the segments stored once the store is back", func() bool {
		for _, sg := range segs[:len(segs)-1] { // the last may still be open
			if !s.covers(t, cam, sg.Start, sg.End) {
				return false
			}
		}
		return true
	})
	// New segments are sent and stored meanwhile; a segment sent twice
	// would keep the sent bytes above the stored ones for good.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		st := a.Status().Backfill
		if st.SentBytes == st.UploadedBytes {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sent %d bytes for %d stored (%d segments): the failed completion was sent again", st.SentBytes, st.UploadedBytes, st.Uploaded)
		}
	}
}
