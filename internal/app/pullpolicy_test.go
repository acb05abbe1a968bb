package app_test

import (
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/camcloud/camcloud/internal/apptest"
	"github.com/camcloud/camcloud/internal/testenv"
)

// apiErr is the error body of an answer.
type apiErr struct {
	Error  struct{ Code, Message string } `json:"error"`
	ID     string                         `json:"id"`
	Source struct{ URL string }           `json:"source"`
}

// adminOrg logs the platform admin in and creates an organisation.
func adminOrg(t *testing.T, n *apptest.Node) (token, org string) {
	t.Helper()
	var l struct{ Token string }
	testenv.APICall(t, n.Base, "", "POST", "/api/v1/auth/login", map[string]string{"email": apptest.AdminEmail, "password": apptest.AdminPassword}, &l)
	var o struct{ ID string }
	testenv.APICall(t, n.Base, l.Token, "POST", "/api/v1/orgs", map[string]string{"name": "o"}, &o)
	return l.Token, o.ID
}

// TestPullDestinationRefusedAtCreation: a pull URL whose host is a refused
// address is answered 400 destination_refused on create and patch; names
// pass (they are checked when dialled); credentials in the URL's query are
// not shown back.
func TestPullDestinationRefusedAtCreation(t *testing.T) {
	t.Parallel()
	n := apptest.Start(t)
	tok, org := adminOrg(t, n)
	create := func(u string) (int, apiErr) {
		var out apiErr
		s := testenv.APIStatus(t, n.Base, tok, "POST", "/api/v1/cameras",
			map[string]any{"org_id": org, "name": "c", "source": map[string]string{"type": "pull", "url": u}}, &out)
		return s, out
	}
	for _, u := range []string{"rtsp://127.0.0.1/s", "rtsp://localhost:3306/", "rtsp://169.254.169.254/latest",
		"rtsp://[::1]:8554/", "rtsp://10.0.0.5/stream", "rtsps://192.168.1.10/", "rtsp://0.0.0.0/", "rtsp://[::ffff:127.0.0.1]/"} {
		if s, out := create(u); s != 400 || out.Error.Code != "destination_refused" {
			t.Errorf("create %s: %d %+v, want 400 destination_refused", u, s, out.Error)
		}
	}
	s, cam := create("rtsp://admin:hunter2@cam.example.net/s?password=hunter3&channel=1")
	if s != 201 {
		t.Fatalf("create by name: %d %+v", s, cam.Error)
	}
	if strings.Contains(cam.Source.URL, "hunter") || !strings.Contains(cam.Source.URL, "channel=1") {
		t.Errorf("source url shown as %q", cam.Source.URL)
	}
	var got apiErr
	testenv.APICall(t, n.Base, tok, "GET", "/api/v1/cameras/"+cam.ID, nil, &got)
	if strings.Contains(got.Source.URL, "hunter") {
		t.Errorf("GET shows %q", got.Source.URL)
	}
	var out apiErr
	s = testenv.APIStatus(t, n.Base, tok, "PATCH", "/api/v1/cameras/"+cam.ID,
		map[string]any{"source": map[string]string{"type": "pull", "url": "rtsp://169.254.169.254/"}}, &out)
	if s != 400 || out.Error.Code != "destination_refused" {
		t.Errorf("patch to metadata address: %d %+v", s, out.Error)
	}
}

// TestPullAllowKeepsOwnListenersRefused: with loopback allowed (as tests
// and single-machine setups do), pulling from 127.0.0.1 is accepted but the
// process's own HTTP and RTSP ports are still refused.
func TestPullAllowKeepsOwnListenersRefused(t *testing.T) {
	t.Parallel()
	n := apptest.Start(t, "--pull-allow", testenv.LoopbackAllow)
	tok, org := adminOrg(t, n)
	_, httpPort, _ := net.SplitHostPort(n.App.HTTPAddr())
	_, rtspPort, _ := net.SplitHostPort(n.App.CamServer.RTSPAddr())
	for _, c := range []struct {
		host string
		want int
	}{
		{net.JoinHostPort("127.0.0.1", "1"), 201},
		{net.JoinHostPort("127.0.0.1", httpPort), 400},
		{net.JoinHostPort("127.0.0.1", rtspPort), 400},
		{net.JoinHostPort("10.0.0.1", "554"), 400},
	} {
		u := (&url.URL{Scheme: "rtsp", Host: c.host, Path: "/s"}).String()
		var out apiErr
		s := testenv.APIStatus(t, n.Base, tok, "POST", "/api/v1/cameras",
			map[string]any{"org_id": org, "name": "c", "source": map[string]string{"type": "pull", "url": u}}, &out)
		if s != c.want || c.want == 400 && out.Error.Code != "destination_refused" {
			t.Errorf("create %s: %d %+v, want %d", u, s, out.Error, c.want)
		}
	}
}
