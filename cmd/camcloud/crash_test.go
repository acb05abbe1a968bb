package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/sample"
	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/testenv"
)

// buildBinary compiles camcloud once per test into a temp dir.
func buildBinary(t testing.TB) string {
	t.Helper()
	goBin := testenv.Tool(t, "go")
	out := filepath.Join(t.TempDir(), "camcloud")
	cmd := exec.Command(goBin, "build", "-o", out, ".")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, b)
	}
	return out
}

// proc is a camcloud serve child process.
type proc struct {
	cmd  *exec.Cmd
	logs *bytes.Buffer
	done chan struct{}
}

func startServe(t testing.TB, bin string, args ...string) *proc {
	t.Helper()
	return startProc(t, bin, append([]string{"serve"}, args...)...)
}

// startProc runs the camcloud command args (serve, agent...) as a child
// process, killed at cleanup; its output is logged when the test failed.
func startProc(t testing.TB, bin string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "CAMCLOUD_ADMIN_EMAIL=admin@example.com", "CAMCLOUD_ADMIN_PASSWORD=admin-password-1")
	p := &proc{cmd: cmd, logs: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("camcloud %s output:\n%s", args[0], p.logs.String())
		}
	})
	return p
}

func waitReady(t testing.TB, base string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("camcloud did not become ready")
}

// TestCrashRecovery kills camcloud with SIGKILL in the middle of a segment
// and starts it again: what was spooled is recovered and uploaded, and the
// gap in the index is no longer than the time the camera could not reach a
// server plus one fragment. It runs with the shipped sample (2 s GOP) and
// with a 4 s GOP: fragments are cut at keyframes, yet a crash still loses
// only about one fragment whatever the GOP.
func TestCrashRecovery(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	t.Run("gop=2s", func(t *testing.T) {
		crashRecovery(t, filepath.Join(filepath.Dir(file), "..", "..", "testdata", "sample-h264.ts"))
	})
	t.Run("gop=4s", func(t *testing.T) { crashRecovery(t, testenv.GOPMedia(t, 25, 100, 3)) })
}

// crashRecovery is TestCrashRecovery with a camera pushing media.
func crashRecovery(t *testing.T, media string) {
	testenv.Tool(t, "ffprobe")
	bin := buildBinary(t)
	dataDir := t.TempDir()
	httpAddr, rtspAddr, rtmpAddr := testenv.ChildAddr(t), testenv.ChildAddr(t), testenv.ChildAddr(t)
	args := []string{"--data-dir", dataDir, "--http", httpAddr, "--rtsp", rtspAddr, "--rtmp", rtmpAddr, "--rtsp-udp", "",
		"--segment-duration", "10s", "--fragment-duration", "1s"}
	base := "http://" + httpAddr
	p1 := startServe(t, bin, args...)
	waitReady(t, base)

	var login struct{ Token string }
	testenv.APICall(t, base, "", "POST", "/api/v1/auth/login", map[string]string{"email": "admin@example.com", "password": "admin-password-1"}, &login)
	var org struct{ ID string }
	testenv.APICall(t, base, login.Token, "POST", "/api/v1/orgs", map[string]string{"name": "crash"}, &org)
	var cam struct {
		ID     string
		Ingest struct {
			RTSP string `json:"rtsp_url"`
		}
	}
	testenv.APICall(t, base, login.Token, "POST", "/api/v1/cameras", map[string]any{"org_id": org.ID, "name": "c"}, &cam)

	smp, err := sample.Load(media)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := &sim.Stats{}
	go func() {
		_ = sim.PushStats(ctx, []string{cam.Ingest.RTSP}, smp, slog.New(slog.NewTextHandler(io.Discard, nil)), st)
	}()

	// Record one whole segment and half of the next, then crash.
	time.Sleep(16 * time.Second)
	sessions := st.Sessions.Load()
	if err := p1.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p1.done
	killed := time.Now()
	time.Sleep(3 * time.Second)

	p2 := startServe(t, bin, args...)
	waitReady(t, base)
	deadline := time.Now().Add(30 * time.Second)
	for st.Sessions.Load() == sessions && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	reconnected := time.Now()
	if st.Sessions.Load() == sessions {
		t.Fatal("the camera did not reconnect")
	}
	time.Sleep(8 * time.Second)
	cancel()
	if err := p2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p2.done:
	case <-time.After(60 * time.Second):
		t.Fatal("camcloud did not exit after SIGTERM")
	}
	if code := p2.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code after SIGTERM: %d", code)
	}

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	z, err := store.OpenZone(context.Background(), "sqlite:"+filepath.Join(dataDir, "zone-local.db"), log)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	rows, err := z.ListSegments(context.Background(), cam.ID, time.Unix(0, 0), time.Now().Add(time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Start.Before(rows[j].Start) })
	blobs, err := blob.NewLocal(filepath.Join(dataDir, "blobs", "local"))
	if err != nil {
		t.Fatal(err)
	}
	// The segment open at the kill was recovered: it ends within a fragment
	// (plus scheduling slack) of the kill.
	var before, after *store.Segment
	for i := range rows {
		if rows[i].Start.Before(killed) {
			before = &rows[i]
		} else if after == nil {
			after = &rows[i]
		}
	}
	if before == nil || after == nil {
		t.Fatalf("want rows before and after the crash, got %d rows", len(rows))
	}
	const fragment = time.Second
	if lost := killed.Sub(before.End); lost > fragment+500*time.Millisecond {
		t.Errorf("recovered recording ends %s before the kill; at most one fragment (%s) may be lost", lost, fragment)
	}
	gap := after.Start.Sub(before.End)
	down := reconnected.Sub(killed)
	t.Logf("crash: last recovered frame %s before the kill, gap %s, camera could not publish for %s", killed.Sub(before.End), gap, down)
	if gap > down+fragment+500*time.Millisecond {
		t.Errorf("gap %s is longer than the downtime %s plus one fragment", gap, down)
	}
	for _, r := range rows {
		init := readObject(t, blobs, r.InitKey)
		seg := readObject(t, blobs, r.Key)
		p := testenv.FFprobe(t, append(slices.Clone(init), seg...))
		if d := p.Duration - r.End.Sub(r.Start); d > 2*time.Second || d < -2*time.Second || p.Frames == 0 {
			t.Errorf("%s: ffprobe %s / %d frames, row %s", r.Key, p.Duration, p.Frames, r.End.Sub(r.Start))
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(dataDir, "spool", "local", cam.ID)); len(entries) > 0 {
		t.Errorf("spool not empty after drain: %v", fmt.Sprint(entries))
	}
}

func readObject(t *testing.T, s blob.Store, key string) []byte {
	t.Helper()
	rc, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("object %s: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
