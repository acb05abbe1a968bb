package main

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/testenv"
)

// BenchmarkAgentPerCamera measures the agent process (`camcloud agent`)
// with 20 simulated RTSP cameras (the shipped 2.2 Mbit/s sample) it pulls
// and records into its ring buffer: CPU (user + system, from
// /proc/PID/stat) and resident memory (VmRSS) over a window after a
// warm-up, both per camera (the process's fixed cost is shared among
// them). uplink=down has no cloud (an outage: recording only);
// uplink=up also relays every camera live to a `camcloud serve` on the
// same machine. Run it once:
//
//	go test -run '^$' -bench BenchmarkAgentPerCamera -benchtime 1x ./cmd/camcloud/
func BenchmarkAgentPerCamera(b *testing.B) {
	const cameras = 20
	for _, up := range []bool{false, true} {
		b.Run(fmt.Sprintf("uplink=%s", map[bool]string{false: "down", true: "up"}[up]), func(b *testing.B) { benchAgent(b, cameras, up) })
	}
}

func benchAgent(b *testing.B, cameras int, up bool) {
	const warmUp, window = 20 * time.Second, 40 * time.Second
	bin := buildBinary(b)
	pull, err := sim.ServePull("127.0.0.1:0", cameras, testenv.Sample(b, "sample-h264.ts"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pull.Close)
	dataDir := b.TempDir()
	y := fmt.Sprintf("cloud: http://127.0.0.1:1\nallow_http: true\nenrolment_token: cc_e_x\ndata_dir: %s\nsegment_duration: 60s\npull_allow: [\"127.0.0.1/32\"]\ncameras:\n", dataDir)
	ids := make([]string, cameras)
	ingest := make([]string, cameras)
	for i := range ids {
		ids[i] = fmt.Sprintf("%032x", i+1)
	}
	if up {
		base, enrol, cams, urls := benchCloud(b, bin, cameras)
		ids, ingest = cams, urls
		y = strings.Replace(y, "http://127.0.0.1:1", base, 1)
		y = strings.Replace(y, "cc_e_x", enrol, 1)
	}
	for i := range ids {
		y += fmt.Sprintf("  - id: %s\n    url: %s\n", ids[i], pull.URL(i))
		if ingest[i] != "" {
			y += "    ingest_url: " + ingest[i] + "\n"
		}
	}
	cfg := filepath.Join(b.TempDir(), "agent.yaml")
	if err := os.WriteFile(cfg, []byte(y), 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "agent", "--config", cfg, "--log-level", "error")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr // errors only
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	time.Sleep(warmUp)
	b.ResetTimer()
	cpu0, at0 := procCPU(b, cmd.Process.Pid), time.Now()
	var rssMax int64
	for time.Since(at0) < window {
		time.Sleep(time.Second)
		rssMax = max(rssMax, procRSS(b, cmd.Process.Pid))
	}
	cpu := procCPU(b, cmd.Process.Pid) - cpu0
	elapsed := time.Since(at0)
	b.StopTimer()
	share := cpu.Seconds() / elapsed.Seconds() * 100 / float64(cameras)
	b.ReportMetric(share, "%core/camera")
	b.ReportMetric(float64(rssMax)/float64(cameras)/(1<<20), "MiB-RSS/camera")
	b.ReportMetric(float64(rssMax)/(1<<20), "MiB-RSS-total")
}

// benchCloud starts `camcloud serve` with a site and n cameras at it.
func benchCloud(b *testing.B, bin string, n int) (base, enrol string, cams, ingest []string) {
	httpAddr, rtspAddr := freePort(b), freePort(b)
	cmd := exec.Command(bin, "serve", "--data-dir", b.TempDir(), "--http", httpAddr, "--rtsp", rtspAddr, "--rtmp", freePort(b), "--rtsp-udp", "")
	cmd.Env = append(os.Environ(), "CAMCLOUD_ADMIN_EMAIL=admin@example.com", "CAMCLOUD_ADMIN_PASSWORD=admin-password-1")
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	base = "http://" + httpAddr
	testenv.Eventually(b, 30*time.Second, "serve ready", func() bool {
		code, err := testenv.APITry(base, "", "GET", "/readyz", nil)
		return err == nil && code == 200
	})
	var login struct {
		Token string `json:"token"`
	}
	testenv.APICall(b, base, "", "POST", "/api/v1/auth/login", map[string]string{"email": "admin@example.com", "password": "admin-password-1"}, &login)
	var org, site struct {
		ID    string `json:"id"`
		Token string `json:"enrolment_token"`
	}
	testenv.APICall(b, base, login.Token, "POST", "/api/v1/orgs", map[string]string{"name": "bench"}, &org)
	testenv.APICall(b, base, login.Token, "POST", "/api/v1/sites", map[string]string{"org_id": org.ID, "name": "bench"}, &site)
	for i := range n {
		var cam struct {
			ID     string `json:"id"`
			Ingest struct {
				RTSP string `json:"rtsp_url"`
			} `json:"ingest"`
		}
		testenv.APICall(b, base, login.Token, "POST", "/api/v1/cameras", map[string]any{"org_id": org.ID, "name": fmt.Sprint("cam ", i), "site_id": site.ID}, &cam)
		u, err := url.Parse(cam.Ingest.RTSP)
		if err != nil {
			b.Fatal(err)
		}
		u.Host = rtspAddr
		cams, ingest = append(cams, cam.ID), append(ingest, u.String())
	}
	return base, site.Token, cams, ingest
}

// procCPU is the user + system CPU time of process pid so far.
func procCPU(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	// Fields after the command name (which may hold spaces): state is 3,
	// utime 14 and stime 15 (1-based, man 5 proc).
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / ticks
}

// procRSS is the resident memory of process pid in bytes.
func procRSS(b *testing.B, pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
