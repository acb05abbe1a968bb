package playback_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/camcloud/camcloud/internal/apptest"
	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/record"
	"github.com/camcloud/camcloud/internal/sample"
	"github.com/camcloud/camcloud/internal/testenv"
	"github.com/camcloud/camcloud/internal/zone"
)

const (
	adminEmail = apptest.AdminEmail
	adminPW    = apptest.AdminPassword
)

// testKey signs media tokens in tests.
var testKey = []byte("0123456789abcdef0123456789abcdef-test")

// env is a running camcloud api node (the role that serves playback) on
// 127.0.0.1, whose media key is testKey.
type env struct {
	t      testing.TB
	base   string
	node   *apptest.Node
	signer *auth.Signer
	zone   *zone.Zone
}

func testLog() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// start runs an api node (clips up to 2 h) whose databases and zone
// "local" are named by the configuration file conf (see newConf); it
// serves images when ffmpeg is on PATH.
func start(t testing.TB, conf string) *env {
	t.Helper()
	return envOf(t, apptest.Start(t, "--config", conf, "--role", "api", "--max-clip", "2h", "--media-key", string(testKey)))
}

// envOf is the env of a running node whose media key is testKey.
func envOf(t testing.TB, n *apptest.Node) *env {
	t.Helper()
	signer, err := auth.NewSigner(testKey)
	if err != nil {
		t.Fatal(err)
	}
	z, err := n.App.Zones.Get("local")
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, base: n.Base, node: n, signer: signer, zone: z}
}

// newConf writes the configuration of a deployment with one zone "local"
// whose databases and objects live in a new directory, and returns its path;
// every node started with it shares them.
func newConf(t testing.TB) string {
	t.Helper()
	d := t.TempDir()
	y := "directory: \"sqlite:" + filepath.Join(d, "directory.db") + "\"\nzones:\n  - name: local\n    db: \"sqlite:" +
		filepath.Join(d, "local.db") + "\"\n    store: {type: local, dir: \"" + filepath.Join(d, "blobs") + "\"}\n"
	p := filepath.Join(d, "camcloud.yaml")
	if err := os.WriteFile(p, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// resp is a decoded answer.
type resp struct {
	Status int
	Body   map[string]any
	Raw    []byte
	Header http.Header
}

func (r resp) str(k string) string { s, _ := r.Body[k].(string); return s }

func (r resp) errCode() string {
	e, _ := r.Body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// do sends a request with a bearer token (may be empty) and a JSON body.
func (e *env) do(method, path, token string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		buf, _ := json.Marshal(body)
		rd = bytes.NewReader(buf)
	}
	u := path
	if !strings.HasPrefix(u, "http") {
		u = e.base + path
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	out := resp{Status: res.StatusCode, Raw: raw, Header: res.Header}
	_ = json.Unmarshal(raw, &out.Body)
	return out
}

func (e *env) must(r resp, status int) resp {
	e.t.Helper()
	if r.Status != status {
		e.t.Fatalf("want %d, got %d: %.300s", status, r.Status, r.Raw)
	}
	return r
}

func (e *env) login(email, pw string) string {
	e.t.Helper()
	return e.must(e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": pw}), 200).str("token")
}

// world is org A with an operator and a viewer and a camera, and org B with
// its owner and camera.
type world struct {
	admin      string
	tok        map[string]string // "operator", "viewer" of A; "other": owner of B
	orgA       string
	camA, camB string
}

func (e *env) world() world {
	e.t.Helper()
	w := world{tok: map[string]string{}}
	w.admin = e.login(adminEmail, adminPW)
	w.orgA = e.must(e.do("POST", "/api/v1/orgs", w.admin, map[string]string{"name": "A"}), 201).str("id")
	orgB := e.must(e.do("POST", "/api/v1/orgs", w.admin, map[string]string{"name": "B"}), 201).str("id")
	for _, m := range []struct{ org, role, name string }{{w.orgA, "operator", "operator"}, {w.orgA, "viewer", "viewer"}, {orgB, "owner", "other"}} {
		email := m.name + "@example.com"
		e.must(e.do("POST", "/api/v1/orgs/"+m.org+"/members", w.admin, map[string]string{"email": email, "password": "password-" + m.name, "role": m.role}), 201)
		w.tok[m.name] = e.login(email, "password-"+m.name)
	}
	w.camA = e.must(e.do("POST", "/api/v1/cameras", w.admin, map[string]any{"org_id": w.orgA, "name": "Front door"}), 201).str("id")
	w.camB = e.must(e.do("POST", "/api/v1/cameras", w.admin, map[string]any{"org_id": orgB, "name": "b cam"}), 201).str("id")
	return w
}

// epoch is the wall-clock time recordings start at in tests.
var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// session is one publish of the sample: loops passes starting at wall time at.
type session struct {
	at    time.Time
	loops int
}

// recordSessions runs the real recorder over the shipped sample into z,
// one hub publish per session, as fast as it takes them, then drains it.
func recordSessions(t testing.TB, z *zone.Zone, cam string, segDur time.Duration, sessions ...session) {
	t.Helper()
	recordSample(t, z, cam, testenv.Sample(t, "sample-h264.ts"), record.Config{SegmentDuration: segDur}, sessions...)
}

// recordSample is recordSessions with another sample and recorder settings
// (durations).
func recordSample(t testing.TB, z *zone.Zone, cam string, smp *sample.Sample, cfg record.Config, sessions ...session) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.SpoolDir, cfg.Store, cfg.Index, cfg.Log, cfg.Registerer, cfg.RetryBackoff = t.TempDir(), z.Blobs, z.DB, testLog(), reg, 5*time.Millisecond
	rec, err := record.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan struct{})
	go func() { rec.Run(ctx); close(runDone) }()
	defer func() { cancel(); <-runDone }()
	h := hub.New()
	var written int
	for _, ss := range sessions {
		st := h.Publish(cam, smp.Tracks)
		errc := make(chan error, 1)
		go func() { errc <- rec.Record(ctx, st) }()
		time.Sleep(100 * time.Millisecond) // let the recorder attach its reader
		for k := range ss.loops {
			for _, u := range smp.Loop(k) {
				u.NTP = ss.at.Add(ticksDur(u.DTS, smp.Tracks[u.Track-1].ClockRate))
				st.Write(u)
				written++
				if written%128 == 0 {
					waitFrames(t, reg, written-1024)
				}
			}
		}
		waitFrames(t, reg, written-200)
		st.Close()
		select {
		case err := <-errc:
			if err != nil {
				t.Fatalf("Record: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("Record did not return")
		}
	}
	dctx, dcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer dcancel()
	if err := rec.Drain(dctx); err != nil {
		t.Fatalf("Drain: %v", err)
	}
}

func ticksDur(ticks int64, clock int) time.Duration {
	return time.Duration(ticks) * time.Second / time.Duration(clock)
}

// waitFrames waits until the recorder wrote at least n units.
func waitFrames(t testing.TB, reg *prometheus.Registry, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if framesRecorded(t, reg) >= float64(n) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("recorder stuck below %d units", n)
		}
		time.Sleep(time.Millisecond)
	}
}

func framesRecorded(t testing.TB, reg *prometheus.Registry) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "camcloud_record_frames_recorded_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}

// ffmpegFrames decodes the video of url (or file) with ffmpeg and returns
// the number of frames decoded (packets read with output "-c", "copy");
// ffmpeg must exit cleanly.
func ffmpegFrames(t *testing.T, ffmpeg, in string, output ...string) int {
	t.Helper()
	args := []string{"-hide_banner", "-nostdin", "-v", "error", "-i", in, "-map", "0:v:0"}
	args = append(args, output...)
	args = append(args, "-f", "null", "-progress", "pipe:1", "-")
	cmd := exec.Command(ffmpeg, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", in, err, stderr.Bytes())
	}
	if stderr.Len() > 0 {
		t.Logf("ffmpeg stderr: %.2000s", stderr.Bytes())
	}
	frames := -1
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "frame="); ok {
			n := 0
			for _, c := range strings.TrimSpace(v) {
				n = n*10 + int(c-'0')
			}
			frames = n
		}
	}
	if frames < 0 {
		t.Fatalf("ffmpeg reported no frames: %s", out)
	}
	return frames
}
