package agent_test

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/agent"
	"github.com/camcloud/camcloud/internal/apptest"
	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/testenv"
)

// site is a cloud node with an organisation, a site and two cameras at
// it, the site's enrolment token, and the cameras' ingest URLs.
type site struct {
	cloud   *apptest.Node
	token   string // the admin's session
	siteID  string
	enrol   string
	cameras []string
	ingest  []string
}

func newSite(t *testing.T) site {
	t.Helper()
	n := apptest.Start(t, "--segment-duration", "2s")
	var login struct {
		Token string `json:"token"`
	}
	testenv.APICall(t, n.Base, "", "POST", "/api/v1/auth/login", map[string]string{"email": apptest.AdminEmail, "password": apptest.AdminPassword}, &login)
	s := site{cloud: n, token: login.Token}
	var org struct {
		ID string `json:"id"`
	}
	testenv.APICall(t, n.Base, s.token, "POST", "/api/v1/orgs", map[string]string{"name": "shops"}, &org)
	var st struct {
		ID    string `json:"id"`
		Token string `json:"enrolment_token"`
	}
	testenv.APICall(t, n.Base, s.token, "POST", "/api/v1/sites", map[string]string{"org_id": org.ID, "name": "shop 1"}, &st)
	s.siteID, s.enrol = st.ID, st.Token
	for _, name := range []string{"till", "door"} {
		var cam struct {
			ID     string `json:"id"`
			Ingest struct {
				RTSP string `json:"rtsp_url"`
			} `json:"ingest"`
		}
		testenv.APICall(t, n.Base, s.token, "POST", "/api/v1/cameras", map[string]any{"org_id": org.ID, "name": name, "site_id": s.siteID}, &cam)
		s.cameras, s.ingest = append(s.cameras, cam.ID), append(s.ingest, cam.Ingest.RTSP)
	}
	return s
}

// viaProxy is an ingest URL with its host:port replaced by addr's.
func viaProxy(t *testing.T, raw, addr string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = addr
	return u.String()
}

// span is a recorded span in the cloud.
type span struct {
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Backfilled bool      `json:"backfilled"`
}

// spans returns the recorded spans of a camera in the cloud since from.
func (s site) spans(t *testing.T, cam string, from time.Time) []span {
	var out struct {
		Spans []span `json:"spans"`
	}
	testenv.APICall(t, s.cloud.Base, s.token, "GET", "/api/v1/cameras/"+cam+"/recordings?from="+url.QueryEscape(from.Format(time.RFC3339)), nil, &out)
	return out.Spans
}

// recordedAfter reports whether the cloud has video of cam that ends after t.
func (s site) recordedAfter(t *testing.T, cam string, from, after time.Time) bool {
	for _, sp := range s.spans(t, cam, from) {
		if sp.End.After(after) {
			return true
		}
	}
	return false
}

// localEnd is the end of the newest segment of cam in the agent's index.
func localEnd(t *testing.T, dataDir, cam string) time.Time {
	z, err := store.OpenZone(context.Background(), "sqlite:"+filepath.Join(dataDir, "index.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	segs, err := z.ListSegments(context.Background(), cam, time.Time{}, time.Now().Add(time.Hour), 100000)
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) == 0 {
		return time.Time{}
	}
	return segs[len(segs)-1].End
}

// TestAgentRecordsThroughAnOutage runs an agent against an in-process
// cloud through TCP proxies the test cuts (HTTP and RTSP ingest), with two
// cameras it pulls from a simulated RTSP server: it enrols, reports its
// buffer (site online in the API), records both cameras locally and
// relays them live; during the outage it keeps recording locally while
// the cloud gets nothing; after it, live relay resumes. A revoked
// credential is then refused and the site goes offline.
func TestAgentRecordsThroughAnOutage(t *testing.T) {
	s := newSite(t)
	httpProxy := testenv.NewProxy(t, s.cloud.App.HTTPAddr())
	rtspProxy := testenv.NewProxy(t, s.cloud.App.CamServer.RTSPAddr())
	pull, err := sim.ServePull("127.0.0.1:0", 2, testenv.Sample(t, "sample-h264.ts"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pull.Close)
	dataDir := t.TempDir()
	cfg := agent.Config{Cloud: "http://" + httpProxy.Addr(), AllowHTTP: true, EnrolmentToken: s.enrol, DataDir: dataDir,
		SegmentDuration: 2 * time.Second, Heartbeat: 500 * time.Millisecond, PullAllow: []string{"127.0.0.1/32"}}
	for i, cam := range s.cameras {
		cfg.Cameras = append(cfg.Cameras, agent.Camera{ID: cam, URL: pull.URL(i), IngestURL: viaProxy(t, s.ingest[i], rtspProxy.Addr())})
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := agent.New(ctx, cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent run: %v", err)
		}
	})
	from := time.Now().Add(-time.Minute)

	// Enrolled, online, recording locally and relaying live.
	siteStatus := func() map[string]any {
		var st struct {
			Status map[string]any `json:"status"`
		}
		testenv.APICall(t, s.cloud.Base, s.token, "GET", "/api/v1/sites/"+s.siteID, nil, &st)
		return st.Status
	}
	testenv.Eventually(t, 60*time.Second, "the site online with a used buffer", func() bool {
		st := siteStatus()
		used, _ := st["buffer_used_bytes"].(float64)
		return st["online"] == true && used > 0
	})
	if b, err := os.ReadFile(filepath.Join(dataDir, "credential")); err != nil || len(b) < 10 {
		t.Fatalf("credential file: %v", err)
	}
	for _, cam := range s.cameras {
		testenv.Eventually(t, 60*time.Second, "camera "+cam+" recorded in the cloud through the relay", func() bool {
			return s.recordedAfter(t, cam, from, time.Now().Add(-4*time.Second))
		})
	}

	// The outage: the cloud gets nothing, the agent records on.
	httpProxy.Cut()
	rtspProxy.Cut()
	cutAt := time.Now()
	testenv.Eventually(t, 30*time.Second, "the agent noticing the outage", func() bool { return !a.Status().UplinkUp && a.Status().Relaying == 0 })
	time.Sleep(6 * time.Second)
	for _, cam := range s.cameras {
		if end := localEnd(t, dataDir, cam); end.Before(cutAt.Add(2 * time.Second)) {
			t.Errorf("camera %s: the newest local segment ends at %s, before the outage was 2 s old (cut at %s)", cam, end, cutAt)
		}
		if s.recordedAfter(t, cam, from, cutAt.Add(3*time.Second)) {
			t.Errorf("camera %s: the cloud recorded video of the outage, through a cut proxy", cam)
		}
	}

	// Restored: live relay resumes.
	httpProxy.Restore()
	rtspProxy.Restore()
	restored := time.Now()
	for _, cam := range s.cameras {
		testenv.Eventually(t, 60*time.Second, "camera "+cam+" relayed live again after the outage", func() bool {
			return s.recordedAfter(t, cam, from, restored.Add(2*time.Second))
		})
	}

	// The outage is a gap in the cloud, and in the agent's buffer: the
	// backlog the site reports (it stays: backfill asks only about segments
	// older than its settle time, 3 min by default).
	testenv.Eventually(t, 30*time.Second, "the outage reported as backlog", func() bool {
		sec, _ := siteStatus()["backlog_seconds"].(float64)
		return sec >= 6
	})
	if b := a.Status().Backlog; b.Bytes <= 0 {
		t.Errorf("a backlog without bytes: %+v", b)
	}

	// Revoked: refused at once, the site goes offline; the agent keeps
	// recording locally.
	testenv.APICall(t, s.cloud.Base, s.token, "POST", "/api/v1/sites/"+s.siteID+"/revoke", nil, nil)
	testenv.Eventually(t, 30*time.Second, "the agent's heartbeat refused", func() bool { return !a.Status().UplinkUp })
	if st := siteStatus(); st["online"] != false {
		t.Fatalf("a revoked site is online: %v", st)
	}
	// Its connected live relays are dropped too, and not let in again.
	for _, cam := range s.cameras {
		testenv.Eventually(t, 30*time.Second, "camera "+cam+" offline in the cloud after the revocation", func() bool {
			var c struct {
				Status struct {
					Online bool `json:"online"`
				} `json:"status"`
			}
			testenv.APICall(t, s.cloud.Base, s.token, "GET", "/api/v1/cameras/"+cam, nil, &c)
			return !c.Status.Online
		})
	}
	revoked := time.Now()
	time.Sleep(5 * time.Second)
	for _, cam := range s.cameras {
		if s.recordedAfter(t, cam, from, revoked.Add(time.Second)) {
			t.Errorf("camera %s: recorded in the cloud after its site was revoked", cam)
		}
	}
}

// TestAgentRingBufferDropsOldest records into a ring buffer far smaller
// than what the camera sends: the oldest segments are dropped and counted,
// the buffer stays within its bound (plus the spool's open segments) and
// recording never stops. No cloud is reachable at all.
func TestAgentRingBufferDropsOldest(t *testing.T) {
	pull, err := sim.ServePull("127.0.0.1:0", 1, testenv.Sample(t, "sample-h264.ts"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pull.Close)
	dataDir := t.TempDir()
	const max = 1 << 20
	cfg := agent.Config{Cloud: "http://127.0.0.1:1", AllowHTTP: true, EnrolmentToken: "cc_e_x", DataDir: dataDir, BufferMaxBytes: max,
		SegmentDuration: time.Second, PullAllow: []string{"127.0.0.1"}, Cameras: []agent.Camera{{ID: "0123456789abcdef0123456789abcdef", URL: pull.URL(0)}}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := agent.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	testenv.Eventually(t, 90*time.Second, "three segments dropped", func() bool { return a.Status().Dropped.Segments >= 3 })
	before := localEnd(t, dataDir, cfg.Cameras[0].ID)
	testenv.Eventually(t, 30*time.Second, "recording going on", func() bool { return localEnd(t, dataDir, cfg.Cameras[0].ID).After(before) })
	st := a.Status()
	if st.BufferUsed > 2*max {
		t.Errorf("the buffer holds %d bytes, bound %d", st.BufferUsed, max)
	}
	if st.Dropped.Bytes <= 0 || st.Dropped.Covered <= 0 {
		t.Errorf("drops not counted: %+v", st.Dropped)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
