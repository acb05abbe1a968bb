package sim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/ingest"
	"github.com/camcloud/camcloud/internal/ingesturl"
	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/testenv"
)

func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// auth accepts any camera whose secret is "secret-" + its id.
type auth struct{}

func (auth) AuthorizePublish(_ context.Context, id, secret string) error {
	if secret != "secret-"+id {
		return fmt.Errorf("bad secret")
	}
	return nil
}

// startIngest runs an ingest server into a new hub.
func startIngest(t *testing.T) (*ingest.Server, *hub.Hub) {
	t.Helper()
	h := hub.New()
	srv, err := ingest.NewServer(ingest.Config{RTSPAddr: "127.0.0.1:0", RTMPAddr: "127.0.0.1:0", Hub: h,
		Auth: auth{}, Log: testLog(t), ReadTimeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv, h
}

func waitStream(t *testing.T, h *hub.Hub, id string, d time.Duration) *hub.Stream {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if s := h.Get(id); s != nil {
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("camera %s not in the hub", id)
	return nil
}

// readVideo reads n video units of s.
func readVideo(t *testing.T, s *hub.Stream, n int) {
	t.Helper()
	r, err := s.NewReader(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	timeout := time.After(10 * time.Second)
	for got := 0; got < n; {
		select {
		case u, ok := <-r.C():
			if !ok {
				t.Fatalf("stream ended after %d units", got)
			}
			if s.Tracks[u.Track-1].IsVideo() {
				got++
			}
		case <-timeout:
			t.Fatalf("got %d of %d video units", got, n)
		}
	}
}

// TestPushFailsOver pushes over RTSP and RTMP with a dead first URL: the
// camera must move on to the next one and reach the hub.
func TestPushFailsOver(t *testing.T) {
	t.Parallel()
	smp := testenv.Sample(t, "sample-h264.ts")
	srv, h := startIngest(t)
	for _, proto := range []string{"rtsp", "rtmp"} {
		t.Run(proto, func(t *testing.T) {
			id := "c-" + proto
			rtspURL, rtmpURL := ingesturl.URLs("rtsp://"+srv.RTSPAddr(), "rtmp://"+srv.RTMPAddr(), id, "secret-"+id)
			good := rtspURL
			if proto == "rtmp" {
				good = rtmpURL
			}
			dead := proto + "://127.0.0.1:1/cam/" + id + "/secret-" + id
			ctx, cancel := context.WithCancel(context.Background())
			st := &sim.Stats{}
			done := make(chan error, 1)
			go func() { done <- sim.PushStats(ctx, []string{dead, good}, smp, testLog(t), st) }()
			s := waitStream(t, h, id, 15*time.Second)
			readVideo(t, s, 10)
			snap := st.Snapshot()
			if snap.Reconnects < 1 || snap.Frames < 10 || snap.Sessions != 1 || !snap.Connected {
				t.Fatalf("stats %+v", snap)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("Push returned %v at the end of ctx", err)
			}
		})
	}
}

// TestPushMovesAfterDrain closes the server a camera pushes to: it must come
// back on the next server of its list.
func TestPushMovesAfterDrain(t *testing.T) {
	t.Parallel()
	smp := testenv.Sample(t, "sample-h264.ts")
	a, ha := startIngest(t)
	b, hb := startIngest(t)
	id := "moving"
	ua, _ := ingesturl.URLs("rtsp://"+a.RTSPAddr(), "", id, "secret-"+id)
	ub, _ := ingesturl.URLs("rtsp://"+b.RTSPAddr(), "", id, "secret-"+id)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := &sim.Stats{}
	go sim.PushStats(ctx, []string{ua, ub}, smp, testLog(t), st)
	readVideo(t, waitStream(t, ha, id, 10*time.Second), 5)
	a.StopAccepting()
	ha.CloseAll()
	readVideo(t, waitStream(t, hb, id, 10*time.Second), 5)
	if snap := st.Snapshot(); snap.Sessions != 2 || snap.Reconnects != 1 {
		t.Fatalf("stats %+v", snap)
	}
}

// TestServePullWithPuller pulls simulated cameras with the ingest Puller.
func TestServePullWithPuller(t *testing.T) {
	t.Parallel()
	smp := testenv.Sample(t, "sample-h264.ts")
	ps, err := sim.ServePull("127.0.0.1:0", 2, smp, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	if want := "rtsp://" + ps.Addr() + "/sim/1"; ps.URL(1) != want {
		t.Fatalf("URL(1) = %q, want %q", ps.URL(1), want)
	}
	h := hub.New()
	p := ingest.NewPuller(h, nil, testLog(t))
	p.Dest = testenv.AllowLoopback()
	defer p.StopAll()
	p.Start("p0", ps.URL(0))
	p.Start("p1", ps.URL(1))
	p.Start("missing", "rtsp://"+ps.Addr()+"/sim/7")
	for _, id := range []string{"p0", "p1"} {
		readVideo(t, waitStream(t, h, id, 10*time.Second), 10)
	}
	if h.Get("missing") != nil {
		t.Fatal("a camera that does not exist was published")
	}
	if ps.Stats(0).Frames.Load() < 10 {
		t.Fatal("frames not counted")
	}
}

// fakeAPI answers POST /api/v1/cameras like camcloud, with ingest URLs of srv.
type fakeAPI struct {
	mu      sync.Mutex
	srv     *ingest.Server
	reqs    []map[string]any
	failing bool
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Method != http.MethodPost || r.URL.Path != "/api/v1/cameras" || r.Header.Get("Authorization") != "Bearer tok" {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":{"code":"unauthorized","message":"bad token"}}`)
		return
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failing {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"error":{"code":"forbidden","message":"not an admin"}}`)
		return
	}
	f.reqs = append(f.reqs, body)
	id := fmt.Sprintf("cam%d", len(f.reqs))
	rtspURL, rtmpURL := ingesturl.URLs("rtsp://"+f.srv.RTSPAddr(), "rtmp://"+f.srv.RTMPAddr(), id, "secret-"+id)
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{"id": id, "ingest": map[string]string{"rtsp_url": rtspURL, "rtmp_url": rtmpURL}})
}

// TestRun creates cameras through the API and pushes them.
func TestRun(t *testing.T) {
	t.Parallel()
	srv, h := startIngest(t)
	api := &fakeAPI{srv: srv}
	hs := httptest.NewServer(api)
	defer hs.Close()

	r, err := sim.NewRunner(sim.RunConfig{API: hs.URL, Token: "tok", OrgID: "org1", Cameras: 2, Protocol: "rtmp",
		SamplePath: testenv.RepoFile("testdata/sample-h264.ts"), Log: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	for _, id := range []string{"cam1", "cam2"} {
		readVideo(t, waitStream(t, h, id, 15*time.Second), 5)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	stats := r.Stats()
	if len(stats) != 2 {
		t.Fatalf("stats %+v", stats)
	}
	for _, s := range stats {
		if s.Frames < 5 || s.CameraID == "" {
			t.Fatalf("stats %+v", s)
		}
	}
	api.mu.Lock()
	defer api.mu.Unlock()
	body := api.reqs[0]
	src, _ := body["source"].(map[string]any)
	if body["org_id"] != "org1" || src["type"] != "push" || body["recording"] != "continuous" || body["retention_days"] != 7.0 {
		t.Fatalf("request body %v", body)
	}
}

// TestRunAPIError surfaces the API's error.
func TestRunAPIError(t *testing.T) {
	t.Parallel()
	srv, _ := startIngest(t)
	hs := httptest.NewServer(&fakeAPI{srv: srv, failing: true})
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := sim.Run(ctx, sim.RunConfig{API: hs.URL, Token: "tok", OrgID: "o", Cameras: 1, Protocol: "rtsp",
		SamplePath: testenv.RepoFile("testdata/sample-h264.ts")})
	if err == nil || !strings.Contains(err.Error(), "forbidden") || !strings.Contains(err.Error(), "not an admin") {
		t.Fatalf("err = %v", err)
	}
	for _, bad := range []sim.RunConfig{
		{API: hs.URL, OrgID: "o", Cameras: 0, Protocol: "rtsp", SamplePath: "x"},
		{API: hs.URL, OrgID: "o", Cameras: 1, Protocol: "srt", SamplePath: "x"},
		{OrgID: "o", Cameras: 1, Protocol: "rtsp", SamplePath: "x"},
	} {
		if _, err := sim.NewRunner(bad); err == nil {
			t.Errorf("config %+v accepted", bad)
		}
	}
}

// TestRunPull serves cameras for pulling and registers them as pull sources.
func TestRunPull(t *testing.T) {
	t.Parallel()
	srv, _ := startIngest(t)
	api := &fakeAPI{srv: srv}
	hs := httptest.NewServer(api)
	defer hs.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- sim.Run(ctx, sim.RunConfig{API: hs.URL, Token: "tok", OrgID: "o", Cameras: 1, Protocol: "pull",
			SamplePath: testenv.RepoFile("testdata/sample-h264.ts"), PullAddr: "127.0.0.1:0"})
	}()
	deadline := time.Now().Add(10 * time.Second)
	var url string
	for url == "" && time.Now().Before(deadline) {
		api.mu.Lock()
		if len(api.reqs) > 0 {
			src, _ := api.reqs[0]["source"].(map[string]any)
			url, _ = src["url"].(string)
			if src["type"] != "pull" {
				t.Errorf("source %v", src)
			}
		}
		api.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.HasPrefix(url, "rtsp://127.0.0.1:") || !strings.HasSuffix(url, "/sim/0") {
		t.Fatalf("pull URL %q", url)
	}
	h := hub.New()
	p := ingest.NewPuller(h, nil, nil)
	p.Dest = testenv.AllowLoopback()
	defer p.StopAll()
	p.Start("x", url)
	readVideo(t, waitStream(t, h, "x", 10*time.Second), 5)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
