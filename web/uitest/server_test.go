package uitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/apptest"
	"github.com/camcloud/camcloud/internal/sample"
	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/testenv"
)

const (
	adminEmail = apptest.AdminEmail
	adminPW    = apptest.AdminPassword
	userPW     = "user-password-1"
)

// server is one in-process camcloud (all roles) on 127.0.0.1 ports, driven
// through its API with the admin's bearer token.
type server struct {
	t     *testing.T
	node  *apptest.Node
	base  string
	token string
}

// startServer runs camcloud serve with short segments and logs in the
// admin; args add flags.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	flags := append([]string{"--segment-duration", "4s"}, webhookFlags...)
	n := apptest.Start(t, append(flags, args...)...)
	s := &server{t: t, node: n, base: n.Base}
	var r struct{ Token string }
	if code := s.call("POST", "/api/v1/auth/login", map[string]string{"email": adminEmail, "password": adminPW}, &r); code != 200 {
		t.Fatalf("admin login: %d", code)
	}
	s.token = r.Token
	return s
}

// call sends one API request with the admin token and decodes the answer.
func (s *server) call(method, path string, body, out any) int {
	s.t.Helper()
	return testenv.APIStatus(s.t, s.base, s.token, method, path, body, out)
}

// must is call that fails the test unless the status is want.
func (s *server) must(want int, method, path string, body, out any) {
	s.t.Helper()
	if code := s.call(method, path, body, out); code != want {
		s.t.Fatalf("%s %s: status %d, want %d", method, path, code, want)
	}
}

type camera struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Ingest struct {
		RTSP string `json:"rtsp_url"`
	} `json:"ingest"`
}

// fixture is the organisation the tests work in.
type fixture struct {
	org     string
	members map[string]string // email -> user id
	cameras []camera          // sorted by name, as the grid shows them
}

// setup creates an organisation with members of each kind and n cameras
// named "Cam 01".."Cam nn".
func (s *server) setup(n int, members map[string]string) fixture {
	s.t.Helper()
	var o struct{ ID string }
	s.must(201, "POST", "/api/v1/orgs", map[string]string{"name": "Acme"}, &o)
	f := fixture{org: o.ID, members: map[string]string{}}
	for email, role := range members {
		var m struct {
			UserID string `json:"user_id"`
		}
		s.must(201, "POST", "/api/v1/orgs/"+o.ID+"/members", map[string]string{"email": email, "password": userPW, "role": role}, &m)
		f.members[email] = m.UserID
	}
	f.cameras = s.createCameras(o.ID, n)
	return f
}

// createCameras creates push cameras "Cam 01".."Cam nn" (at least two
// digits, so that they sort by name as by number) in org, a few at a time,
// and returns them in that order.
func (s *server) createCameras(org string, n int) []camera {
	s.t.Helper()
	out := make([]camera, n)
	errs := make(chan error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range next {
				body := map[string]any{"org_id": org, "name": fmt.Sprintf("Cam %02d", i+1), "source": map[string]string{"type": "push"}}
				if err := s.post("/api/v1/cameras", body, &out[i]); err != nil {
					errs <- fmt.Errorf("create camera %d: %w", i+1, err)
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		s.t.Fatal(err)
	}
	return out
}

// post sends one POST with the admin token that must answer 201; unlike
// call it may run on any goroutine.
func (s *server) post(path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequest("POST", s.base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST %s: %d %s", path, res.StatusCode, raw)
	}
	return json.Unmarshal(raw, out)
}

// push streams the H.264 sample to a camera until the test ends or the
// returned function is called (it waits until the stream has stopped).
func (s *server) push(c camera) (stop func()) {
	s.t.Helper()
	smp, err := sample.Load(testenv.RepoFile("testdata/sample-h264.ts"))
	if err != nil {
		s.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = sim.Push(ctx, []string{c.Ingest.RTSP}, smp, nil)
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	s.t.Cleanup(stop)
	return stop
}

// waitOnline waits until the camera reports online.
func (s *server) waitOnline(c camera) {
	s.t.Helper()
	testenv.Eventually(s.t, 20*time.Second, c.Name+" online", func() bool {
		var r struct {
			Status struct{ Online bool } `json:"status"`
		}
		return s.call("GET", "/api/v1/cameras/"+c.ID, nil, &r) == 200 && r.Status.Online
	})
}

// recordingCamera sets up one camera, pushes the sample to it and waits
// until one recorded span covers lead to until after the push began,
// which it returns with the camera.
func (s *server) recordingCamera(lead, until time.Duration) (camera, time.Time) {
	s.t.Helper()
	cam := s.setup(1, nil).cameras[0]
	s.push(cam)
	s.waitOnline(cam)
	start := time.Now()
	testenv.Eventually(s.t, 60*time.Second, fmt.Sprintf("%s recorded", until), func() bool {
		return s.recordedSince(cam, start.Add(lead), start.Add(until))
	})
	return cam, start
}

// recordedSince reports whether one recorded span covers [from, to].
func (s *server) recordedSince(c camera, from, to time.Time) bool {
	var r struct {
		Spans []struct{ Start, End time.Time } `json:"spans"`
	}
	q := "?from=" + from.Add(-time.Minute).UTC().Format(time.RFC3339) + "&to=" + time.Now().Add(time.Minute).UTC().Format(time.RFC3339)
	if s.call("GET", "/api/v1/cameras/"+c.ID+"/recordings"+q, nil, &r) != 200 {
		return false
	}
	for _, sp := range r.Spans {
		if !sp.Start.After(from) && !sp.End.Before(to) {
			return true
		}
	}
	return false
}

// span is a recorded range of a camera.
type span struct{ Start, End time.Time }

// spans lists a camera's recorded spans of the last hour.
func (s *server) spans(c camera) []span {
	s.t.Helper()
	var r struct {
		Spans []span `json:"spans"`
	}
	q := "?from=" + time.Now().Add(-time.Hour).UTC().Format(time.RFC3339) + "&to=" + time.Now().Add(time.Minute).UTC().Format(time.RFC3339)
	s.must(200, "GET", "/api/v1/cameras/"+c.ID+"/recordings"+q, nil, &r)
	return r.Spans
}

// waitOffline waits until the camera reports offline.
func (s *server) waitOffline(c camera) {
	s.t.Helper()
	testenv.Eventually(s.t, 20*time.Second, c.Name+" offline", func() bool {
		var r struct {
			Status struct{ Online bool } `json:"status"`
		}
		return s.call("GET", "/api/v1/cameras/"+c.ID, nil, &r) == 200 && !r.Status.Online
	})
}
