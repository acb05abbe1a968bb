package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/testenv"
)

// agentSite is a cloud (`camcloud serve`) with a site and two cameras at
// it, as the test sets them up through the API.
type agentSite struct {
	base, token, siteID, enrol string
	cams, ingest               []string
}

func setUpSite(t testing.TB, base string) agentSite { return setUpSiteOf(t, base, "shops") }

// setUpSiteOf is setUpSite with a new organisation of that name.
func setUpSiteOf(t testing.TB, base, orgName string) agentSite {
	return setUpSiteN(t, base, orgName, 2)
}

// setUpSiteN is setUpSiteOf with n cameras.
func setUpSiteN(t testing.TB, base, orgName string, n int) agentSite {
	var login struct {
		Token string `json:"token"`
	}
	testenv.APICall(t, base, "", "POST", "/api/v1/auth/login", map[string]string{"email": "admin@example.com", "password": "admin-password-1"}, &login)
	s := agentSite{base: base, token: login.Token}
	var org, site struct {
		ID    string `json:"id"`
		Token string `json:"enrolment_token"`
	}
	testenv.APICall(t, base, s.token, "POST", "/api/v1/orgs", map[string]string{"name": orgName}, &org)
	testenv.APICall(t, base, s.token, "POST", "/api/v1/sites", map[string]string{"org_id": org.ID, "name": "shop"}, &site)
	s.siteID, s.enrol = site.ID, site.Token
	for i := range n {
		var cam struct {
			ID     string `json:"id"`
			Ingest struct {
				RTSP string `json:"rtsp_url"`
			} `json:"ingest"`
		}
		testenv.APICall(t, base, s.token, "POST", "/api/v1/cameras", map[string]any{"org_id": org.ID, "name": fmt.Sprint("cam ", i), "site_id": s.siteID}, &cam)
		s.cams, s.ingest = append(s.cams, cam.ID), append(s.ingest, cam.Ingest.RTSP)
	}
	return s
}

// cloudEnd is the end of the newest span the cloud recorded of cam.
func (s agentSite) cloudEnd(t testing.TB, cam string) time.Time {
	var out struct {
		Spans []struct {
			End time.Time `json:"end"`
		} `json:"spans"`
	}
	from := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	testenv.APICall(t, s.base, s.token, "GET", "/api/v1/cameras/"+cam+"/recordings?from="+url.QueryEscape(from), nil, &out)
	if len(out.Spans) == 0 {
		return time.Time{}
	}
	return out.Spans[len(out.Spans)-1].End
}

func (s agentSite) online(t testing.TB) bool {
	var st struct {
		Status struct {
			Online bool `json:"online"`
		} `json:"status"`
	}
	testenv.APICall(t, s.base, s.token, "GET", "/api/v1/sites/"+s.siteID, nil, &st)
	return st.Status.Online
}

// agentIndex reads the segments of cam the agent holds in its ring buffer.
func agentIndex(t testing.TB, dataDir, cam string) []store.Segment {
	z, err := store.OpenZone(context.Background(), "sqlite:"+filepath.Join(dataDir, "index.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	segs, err := z.ListSegments(context.Background(), cam, time.Time{}, time.Now().Add(time.Hour), 100000)
	if err != nil {
		t.Fatal(err)
	}
	return segs
}

func newestEnd(segs []store.Segment) time.Time {
	if len(segs) == 0 {
		return time.Time{}
	}
	return segs[len(segs)-1].End
}

// TestAgentProcesses runs the cloud (`camcloud serve`) and the agent
// (`camcloud agent --config agent.yaml`) as processes, the agent behind
// TCP proxies the test cuts (its HTTPS API and RTSP ingest uplink), with
// two simulated RTSP cameras the agent pulls. Live reaches the cloud, the
// outage (8 s: short for CI) is recorded locally and not in the cloud,
// live resumes after it; the agent, SIGKILLed, starts again from its
// credential file (no enrolment token any more) with its ring buffer
// intact and records on. Backfill of the outage is
// TestAgentBackfillProcesses's (here the default settle time keeps it
// from starting).
func TestAgentProcesses(t *testing.T) {
	bin := buildBinary(t)
	httpAddr, rtspAddr := testenv.ChildAddr(t), testenv.ChildAddr(t)
	startServe(t, bin, "--data-dir", t.TempDir(), "--http", httpAddr, "--rtsp", rtspAddr, "--rtmp", testenv.ChildAddr(t), "--rtsp-udp", "",
		"--segment-duration", "2s")
	base := "http://" + httpAddr
	waitReady(t, base)
	s := setUpSite(t, base)
	httpProxy, rtspProxy := testenv.NewProxy(t, httpAddr), testenv.NewProxy(t, rtspAddr)
	pull, err := sim.ServePull("127.0.0.1:0", 2, testenv.Sample(t, "sample-h264.ts"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pull.Close)

	dataDir := t.TempDir()
	writeConfig := func(token string) string {
		y := fmt.Sprintf("cloud: http://%s\nallow_http: true\ndata_dir: %s\nsegment_duration: 2s\nheartbeat: 1s\npull_allow: [\"127.0.0.1/32\"]\n",
			httpProxy.Addr(), dataDir)
		if token != "" {
			y += "enrolment_token: " + token + "\n"
		}
		y += "cameras:\n"
		for i, cam := range s.cams {
			u, err := url.Parse(s.ingest[i])
			if err != nil {
				t.Fatal(err)
			}
			u.Host = rtspProxy.Addr()
			y += fmt.Sprintf("  - id: %s\n    url: %s\n    ingest_url: %s\n", cam, pull.URL(i), u)
		}
		path := filepath.Join(t.TempDir(), "agent.yaml")
		if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	agent := startProc(t, bin, "agent", "--config", writeConfig(s.enrol))

	testenv.Eventually(t, 60*time.Second, "the site online", func() bool { return s.online(t) })
	for _, cam := range s.cams {
		testenv.Eventually(t, 60*time.Second, "camera "+cam+" live in the cloud", func() bool {
			return s.cloudEnd(t, cam).After(time.Now().Add(-5 * time.Second))
		})
	}

	httpProxy.Cut()
	rtspProxy.Cut()
	cut := time.Now()
	time.Sleep(8 * time.Second)
	for _, cam := range s.cams {
		if end := newestEnd(agentIndex(t, dataDir, cam)); end.Before(cut.Add(3 * time.Second)) {
			t.Errorf("camera %s: the agent's newest segment ends at %s, not 3 s into the outage (cut at %s)", cam, end, cut)
		}
		if end := s.cloudEnd(t, cam); end.After(cut.Add(3 * time.Second)) {
			t.Errorf("camera %s: the cloud recorded up to %s through a cut uplink (cut at %s)", cam, end, cut)
		}
	}
	httpProxy.Restore()
	rtspProxy.Restore()
	restored := time.Now()
	for _, cam := range s.cams {
		testenv.Eventually(t, 60*time.Second, "camera "+cam+" live again after the outage", func() bool {
			return s.cloudEnd(t, cam).After(restored.Add(2 * time.Second))
		})
	}

	// SIGKILL, then start again without the enrolment token (used up):
	// the credential file and the ring buffer survived.
	before := map[string]int{}
	for _, cam := range s.cams {
		before[cam] = len(agentIndex(t, dataDir, cam))
	}
	if err := agent.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-agent.done
	killed := time.Now()
	startProc(t, bin, "agent", "--config", writeConfig(""))
	for _, cam := range s.cams {
		testenv.Eventually(t, 60*time.Second, "camera "+cam+" recorded locally after the restart", func() bool {
			return newestEnd(agentIndex(t, dataDir, cam)).After(killed.Add(2 * time.Second))
		})
		if n := len(agentIndex(t, dataDir, cam)); n < before[cam] {
			t.Errorf("camera %s: %d segments in the buffer after the restart, %d before", cam, n, before[cam])
		}
		testenv.Eventually(t, 60*time.Second, "camera "+cam+" live after the restart", func() bool {
			return s.cloudEnd(t, cam).After(killed.Add(2 * time.Second))
		})
	}
	if !s.online(t) {
		t.Error("the site is offline after the restart")
	}
}
