package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// S3Server is a real S3-compatible server (versitygw over a directory) for
// tests. Copies share one process, so any copy can Stop and Start it.
type S3Server struct {
	// Endpoint is "127.0.0.1:port", plain http, path-style, region us-east-1.
	Endpoint string
	// AccessKey and SecretKey are the root credentials, fresh per server.
	AccessKey string
	SecretKey string
	// Dir is the directory the gateway stores buckets and objects in.
	Dir string

	proc *s3proc
}

// s3proc is the running gateway process and what restarting it needs.
type s3proc struct {
	t      testing.TB
	bin    string
	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{}
	output *LogBuffer
}

// StartS3 runs versitygw on a free 127.0.0.1 port over a fresh temp
// directory, waits until it answers and stops it when the test ends. The
// test skips (or fails under CAMCLOUD_TEST_STRICT=1) when versitygw is not
// installed.
func StartS3(t testing.TB) S3Server {
	t.Helper()
	bin := findVersitygw()
	if bin == "" {
		Missing(t, "versitygw (install: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)")
	}
	port, err := childPort()
	if err != nil {
		t.Fatalf("testenv: pick a port for versitygw: %v", err)
	}
	s := S3Server{
		Endpoint:  fmt.Sprintf("127.0.0.1:%d", port),
		AccessKey: "camcloud" + randHex(4),
		SecretKey: randHex(16),
		Dir:       t.TempDir(),
		proc:      &s3proc{t: t, bin: bin, output: &LogBuffer{}},
	}
	t.Cleanup(s.Stop)
	s.Start()
	return s
}

// Start runs the gateway (again) on the same port and directory and waits
// until it answers; it fails the test if it does not within 20 s. Starting a
// running server does nothing.
func (s S3Server) Start() {
	p := s.proc
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return
	}
	cmd := exec.Command(p.bin,
		"--access", s.AccessKey, "--secret", s.SecretKey,
		"--port", s.Endpoint, "--quiet",
		"posix", s.Dir)
	cmd.Stdout = p.output
	cmd.Stderr = p.output
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("testenv: start versitygw: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.cmd, p.done = cmd, done
	if err := waitHTTP(s.Endpoint, done, 20*time.Second); err != nil {
		_ = cmd.Process.Kill()
		<-done
		p.cmd = nil
		p.t.Fatalf("testenv: versitygw on %s: %v; output:\n%s", s.Endpoint, err, p.output.String())
	}
}

// ZoneStore is the YAML flow mapping of a zone's store on this server:
// bucket, prefix rec/, path-style, with the root credentials; extra
// settings (e.g. "proxy_playback: true") are added to it.
func (s S3Server) ZoneStore(bucket string, extra ...string) string {
	m := fmt.Sprintf("type: s3, endpoint: %q, region: us-east-1, bucket: %q, prefix: rec/, access_key: %q, secret_key: %q, path_style: true",
		s.Endpoint, bucket, s.AccessKey, s.SecretKey)
	for _, x := range extra {
		m += ", " + x
	}
	return "{" + m + "}"
}

// Stop kills the gateway and waits for it to exit, so the store is
// unreachable until Start. Stopping a stopped server does nothing.
func (s S3Server) Stop() {
	p := s.proc
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	p.cmd = nil
}

// findVersitygw looks on PATH, then in the Go bin directories.
func findVersitygw() string {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	var dirs []string
	if gp := os.Getenv("GOPATH"); gp != "" {
		for _, d := range filepath.SplitList(gp) {
			dirs = append(dirs, filepath.Join(d, "bin"))
		}
	}
	if gb := os.Getenv("GOBIN"); gb != "" {
		dirs = append(dirs, gb)
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	dirs = append(dirs, "/root/go/bin")
	for _, d := range dirs {
		p := filepath.Join(d, "versitygw")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// waitHTTP polls addr until any HTTP answer comes back (an anonymous
// request gets 403, which proves the server is up), the process exits or
// the time runs out.
func waitHTTP(addr string, exited <-chan struct{}, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("exited before answering")
		case <-ctx.Done():
			return fmt.Errorf("no answer within %v: %w", limit, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// randHex returns 2n random hex digits.
func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
