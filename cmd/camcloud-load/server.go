package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Credentials of the platform admin the child server creates on first start.
const (
	adminEmail    = "load@example.com"
	adminPassword = "load-benchmark-password-1"
)

// server is one `camcloud serve` child process.
type server struct {
	cmd   *exec.Cmd
	base  string // http://127.0.0.1:port
	debug string // http://127.0.0.1:port of pprof
	rtsp  string // 127.0.0.1:port
	rtmp  string // 127.0.0.1:port
	logf  *os.File
	done  chan struct{}
	http  *http.Client
	token string
}

// freeAddr returns a 127.0.0.1 address with a port free right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startServer starts bin serve with a fresh data directory dir (on pin's
// CPUs when pin is not nil) and waits until it is ready.
func startServer(ctx context.Context, pin *pinning, bin, dir string, extra []string) (*server, error) {
	var addrs [4]string
	for i := range addrs {
		a, err := freeAddr()
		if err != nil {
			return nil, err
		}
		addrs[i] = a
	}
	logf, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		return nil, err
	}
	args := append([]string{"serve", "--data-dir", filepath.Join(dir, "data"), "--http", addrs[0], "--rtsp", addrs[1],
		"--rtmp", addrs[2], "--rtsp-udp", "", "--debug-addr", addrs[3], "--log-level", "warn"}, extra...)
	name, args := pin.command(bin, args)
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "CAMCLOUD_ADMIN_EMAIL="+adminEmail, "CAMCLOUD_ADMIN_PASSWORD="+adminPassword)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	s := &server{cmd: cmd, base: "http://" + addrs[0], debug: "http://" + addrs[3], rtsp: addrs[1], rtmp: addrs[2], logf: logf,
		done: make(chan struct{}), http: &http.Client{Timeout: 60 * time.Second}}
	go func() { _ = cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if res, err := s.http.Get(s.base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("camcloud serve exited at start; see %s", logf.Name())
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, errors.New("camcloud serve did not become ready within 60 s")
		}
	}
	return s, nil
}

// pid is the server's process id.
func (s *server) pid() int { return s.cmd.Process.Pid }

// stop asks the server to drain (SIGTERM) and kills it after 2 minutes.
func (s *server) stop() {
	defer s.logf.Close()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(2 * time.Minute):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// call makes one API request and decodes the JSON answer into out.
func (s *server) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	res, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, bytes.TrimSpace(raw))
	}
	return json.Unmarshal(raw, out)
}

// setup logs in as the admin and creates an organisation for the cameras.
func (s *server) setup(ctx context.Context) (orgID string, err error) {
	var login struct{ Token string }
	if err := s.call(ctx, http.MethodPost, "/api/v1/auth/login",
		map[string]string{"email": adminEmail, "password": adminPassword}, &login); err != nil {
		return "", err
	}
	s.token = login.Token
	var org struct{ ID string }
	if err := s.call(ctx, http.MethodPost, "/api/v1/orgs", map[string]string{"name": "load"}, &org); err != nil {
		return "", err
	}
	return org.ID, nil
}

// metrics returns the sum of each requested Prometheus series of /metrics.
func (s *server) metrics(ctx context.Context, names ...string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	res, err := s.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: %s", res.Status)
	}
	out := make(map[string]float64, len(names))
	sc := bufio.NewScanner(io.LimitReader(res.Body, 64<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		for _, n := range names {
			rest, ok := strings.CutPrefix(line, n)
			if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '{') {
				continue
			}
			f := strings.Fields(rest[strings.LastIndexByte(rest, '}')+1:])
			if len(f) == 0 {
				continue
			}
			if v, err := strconv.ParseFloat(f[0], 64); err == nil {
				out[n] += v
			}
		}
	}
	return out, sc.Err()
}

// saveProfile fetches a pprof profile from the debug address into path.
func (s *server) saveProfile(ctx context.Context, what, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.debug+"/debug/pprof/"+what, nil)
	if err != nil {
		return err
	}
	c := &http.Client{Timeout: 2 * time.Minute}
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof %s: %s", what, res.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, res.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ingest returns the server's ingest address for protocol.
func (s *server) ingest(protocol string) string {
	if protocol == "rtmp" {
		return s.rtmp
	}
	return s.rtsp
}
