package api_test

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestOfflineReasonOfPull: a pull camera aimed at a closed port says
// "connection refused" in its status after its first attempt, with since
// when it is offline; one aimed at a camera that refuses its credentials
// says 401. The reason and the time are in the list too.
func TestOfflineReasonOfPull(t *testing.T) {
	e := start(t, "--pull-allow", testenv.LoopbackAllow)
	w := e.world()
	tok := w.tok["admin"]

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	unauth := rtsp401(t)

	status := func(id string) map[string]any {
		st, _ := e.must(e.do("GET", "/api/v1/cameras/"+id, tok, nil), 200).Body["status"].(map[string]any)
		return st
	}
	for _, c := range []struct{ url, want string }{
		{"rtsp://" + closedAddr + "/stream", "connection refused"},
		{"rtsp://user:wrong@" + unauth + "/stream", "401"},
	} {
		id := e.must(e.do("POST", "/api/v1/cameras", tok, map[string]any{"org_id": w.orgA, "name": "pulled " + c.want,
			"source": map[string]string{"type": "pull", "url": c.url}}), 201).str("id")
		var st map[string]any
		testenv.Eventually(t, 30*time.Second, "offline reason of "+c.url, func() bool {
			st = status(id)
			r, _ := st["offline_reason"].(string)
			return r != ""
		})
		reason := st["offline_reason"].(string)
		if !strings.Contains(reason, c.want) || st["online"] != false || strings.Contains(reason, "wrong") {
			t.Fatalf("%s: status %v, want an offline reason with %q (and no password)", c.url, st, c.want)
		}
		since, err := time.Parse(time.RFC3339Nano, st["offline_since"].(string))
		if err != nil || time.Since(since) > time.Hour || time.Until(since) > time.Minute {
			t.Fatalf("%s: offline_since %v (%v)", c.url, st["offline_since"], err)
		}
		list := e.must(e.do("GET", "/api/v1/cameras?org_id="+w.orgA, tok, nil), 200)
		if !strings.Contains(string(list.Raw), reason) {
			t.Fatalf("the list does not say why %s is offline: %s", id, list.Raw)
		}
	}
	// the push camera that never connected has no reason to show
	if st := status(w.camA); st["offline_reason"] != nil {
		t.Fatalf("push camera that never connected: %v", st)
	}
}

// rtsp401 serves RTSP that answers every request 401 Unauthorized with a
// Basic challenge, as a camera given the wrong password does; it returns
// its address.
func rtsp401(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				cseq := ""
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					line = strings.TrimSpace(line)
					if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "CSeq") {
						cseq = strings.TrimSpace(v)
					}
					if line == "" {
						_, _ = c.Write([]byte("RTSP/1.0 401 Unauthorized\r\nCSeq: " + cseq + "\r\nWWW-Authenticate: Basic realm=\"camera\"\r\n\r\n"))
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// TestOfflineReasonOfPush: a push camera that stops publishing is offline
// because its stream ended, since about when it stopped; once it publishes
// again the reason and the time are gone.
func TestOfflineReasonOfPush(t *testing.T) {
	smp := testenv.Sample(t, "sample-h264.ts")
	e := start(t)
	w := e.world()
	tok := w.tok["admin"]
	status := func() map[string]any {
		st, _ := e.must(e.do("GET", "/api/v1/cameras/"+w.camA, tok, nil), 200).Body["status"].(map[string]any)
		return st
	}
	publish := func() context.CancelFunc {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = sim.PublishOnce(ctx, w.secretURL, smp, nil) }()
		return func() { cancel(); <-done }
	}
	stop := publish()
	testenv.Eventually(t, 30*time.Second, "the camera online", func() bool { return status()["online"] == true })
	if st := status(); st["offline_reason"] != nil || st["offline_since"] != nil {
		t.Fatalf("an online camera has an offline reason: %v", st)
	}
	stop()
	stopped := time.Now()
	var st map[string]any
	testenv.Eventually(t, 30*time.Second, "the camera offline", func() bool { st = status(); return st["online"] == false })
	if r, _ := st["offline_reason"].(string); !strings.HasPrefix(r, "the stream ended") {
		t.Fatalf("offline reason of a camera that stopped pushing: %v", st)
	}
	since, err := time.Parse(time.RFC3339Nano, st["offline_since"].(string))
	if err != nil || since.Before(stopped.Add(-time.Minute)) || since.After(time.Now()) {
		t.Fatalf("offline_since %v (%v), stopped at %s", st["offline_since"], err, stopped)
	}
	stop = publish()
	defer stop()
	testenv.Eventually(t, 30*time.Second, "the camera online again", func() bool { st = status(); return st["online"] == true })
	if st["offline_reason"] != nil || st["offline_since"] != nil {
		t.Fatalf("back online, the status still says why it was offline: %v", st)
	}
}
