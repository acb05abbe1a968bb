package main

import (
	"bytes"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// node is one `camcloud serve` process of the scale-out test that can be
// killed, drained and started again on the same data directory.
type node struct {
	t       testing.TB
	name    string
	bin     string
	args    []string
	dataDir string
	http    string // host:port
	rtsp    string // host:port, camera servers only

	mu    sync.Mutex
	id    string // camera-server id, read from the data directory once ready
	cmd   *exec.Cmd
	out   *syncBuffer
	done  chan struct{}
	state string // "up", "draining" (SIGTERM sent) or "down"
}

// syncBuffer is a bytes.Buffer safe for the child's writes and our reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) tail(n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	lines := strings.Split(s.b.String(), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// start runs the process; it does not wait for readiness.
func (n *node) start() {
	n.t.Helper()
	cmd := exec.Command(n.bin, append([]string{"serve"}, n.args...)...)
	cmd.Env = append(os.Environ(), "CAMCLOUD_ADMIN_EMAIL=admin@example.com", "CAMCLOUD_ADMIN_PASSWORD=admin-password-1")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	n.mu.Lock()
	n.cmd, n.out, n.done, n.state = cmd, out, done, "up"
	n.mu.Unlock()
	n.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if n.t.Failed() {
			n.t.Logf("--- %s (pid %d), last lines:\n%s", n.name, cmd.Process.Pid, out.tail(40))
		}
	})
}

// waitReady waits for /readyz and reads the server id of a camera server.
func (n *node) waitReady() {
	n.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-n.done:
			n.t.Fatalf("%s exited while starting:\n%s", n.name, n.out.tail(40))
		default:
		}
		if res, err := http.Get("http://" + n.http + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				if n.rtsp != "" {
					b, err := os.ReadFile(filepath.Join(n.dataDir, "server-id"))
					if err != nil {
						n.t.Fatalf("%s: server id: %v", n.name, err)
					}
					n.mu.Lock()
					n.id = strings.TrimSpace(string(b))
					n.mu.Unlock()
				}
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	n.t.Fatalf("%s did not become ready:\n%s", n.name, n.out.tail(40))
}

// up reports whether the node runs and is not draining.
// serverID is the camera-server id read when the node became ready; the
// outage monitor reads it from its own goroutine.
func (n *node) serverID() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.id
}

func (n *node) up() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.state == "up"
}

// kill sends SIGKILL and waits for the exit.
func (n *node) kill() {
	n.t.Helper()
	n.mu.Lock()
	n.state = "down"
	cmd, done := n.cmd, n.done
	n.mu.Unlock()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		n.t.Fatal(err)
	}
	<-done
}

// term sends SIGTERM and waits (at most limit) for the exit; it returns
// the exit code.
func (n *node) term(limit time.Duration) int {
	n.t.Helper()
	n.mu.Lock()
	n.state = "draining"
	cmd, done := n.cmd, n.done
	n.mu.Unlock()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		n.t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(limit):
		n.t.Fatalf("%s did not exit within %s of SIGTERM:\n%s", n.name, limit, n.out.tail(40))
	}
	n.mu.Lock()
	n.state = "down"
	n.mu.Unlock()
	return cmd.ProcessState.ExitCode()
}

// spoolFiles counts the files left in the node's spool.
func (n *node) spoolFiles() []string {
	var out []string
	_ = filepath.WalkDir(filepath.Join(n.dataDir, "spool"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			out = append(out, p)
		}
		return nil
	})
	return out
}
