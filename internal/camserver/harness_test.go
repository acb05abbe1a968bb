package camserver_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"sort"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/app"
	"github.com/camcloud/camcloud/internal/apptest"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/testenv"
)

const (
	adminEmail = apptest.AdminEmail
	adminPW    = apptest.AdminPassword
)

// node is one in-process camcloud (all roles) on 127.0.0.1 ports, with the
// admin logged in.
type node struct {
	*apptest.Node
	t     *testing.T
	app   *app.App
	base  string
	token string
	org   string
}

// startNode runs camcloud serve in-process with short segments.
func startNode(t *testing.T, dataDir string, extra ...string) *node {
	t.Helper()
	an := apptest.Start(t, append([]string{"--data-dir", dataDir, "--segment-duration", "6s", "--lease-ttl", "3s"}, extra...)...)
	n := &node{Node: an, t: t, app: an.App, base: an.Base}
	n.token = n.login()
	return n
}

// stop drains the node (uploads the spool) and stops serving; its
// databases stay open for the test to read.
func (n *node) stop() { n.Stop() }

func (n *node) call(method, path string, body, out any) int {
	n.t.Helper()
	return testenv.APIStatus(n.t, n.base, n.token, method, path, body, out)
}

func (n *node) login() string {
	var r struct{ Token string }
	if s := n.call("POST", "/api/v1/auth/login", map[string]string{"email": adminEmail, "password": adminPW}, &r); s != 200 {
		n.t.Fatalf("login: %d", s)
	}
	return r.Token
}

type camResp struct {
	ID     string `json:"id"`
	Ingest struct {
		RTSP string `json:"rtsp_url"`
		RTMP string `json:"rtmp_url"`
	} `json:"ingest"`
	Status struct {
		Online      bool      `json:"online"`
		Codec       string    `json:"codec"`
		BitrateKbps int       `json:"bitrate_kbps"`
		LastSeen    time.Time `json:"last_seen"`
		Server      string    `json:"server"`
		Recording   string    `json:"recording"`
		Reason      string    `json:"recording_reason"`
	} `json:"status"`
}

// camera creates a camera (an org first if needed) and returns it with its
// ingest URLs.
func (n *node) camera(name string, source map[string]string) camResp {
	n.t.Helper()
	if n.org == "" {
		var o struct{ ID string }
		if s := n.call("POST", "/api/v1/orgs", map[string]string{"name": "test"}, &o); s != 201 {
			n.t.Fatalf("create org: %d", s)
		}
		n.org = o.ID
	}
	if source == nil {
		source = map[string]string{"type": "push"}
	}
	var c camResp
	if s := n.call("POST", "/api/v1/cameras", map[string]any{"org_id": n.org, "name": name, "source": source}, &c); s != 201 {
		n.t.Fatalf("create camera: %d", s)
	}
	return c
}

// segments reads a camera's index rows from the local zone.
func (n *node) segments(cam string) []store.Segment {
	n.t.Helper()
	z, err := n.app.Zones.Get("local")
	if err != nil {
		n.t.Fatal(err)
	}
	rows, err := z.DB.ListSegments(context.Background(), cam, time.Unix(0, 0), time.Now().Add(time.Hour), 100000)
	if err != nil {
		n.t.Fatal(err)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Start.Before(rows[j].Start) })
	return rows
}

// object reads an object from the local zone's store.
func (n *node) object(key string) []byte {
	n.t.Helper()
	z, _ := n.app.Zones.Get("local")
	rc, err := z.Blobs.Get(context.Background(), key)
	if err != nil {
		n.t.Fatalf("object %s: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		n.t.Fatal(err)
	}
	return b
}

// gaps returns the holes between consecutive segments longer than tol.
func gaps(rows []store.Segment, tol time.Duration) []time.Duration {
	var out []time.Duration
	for i := 1; i < len(rows); i++ {
		if g := rows[i].Start.Sub(rows[i-1].End); g > tol {
			out = append(out, g)
		}
	}
	return out
}

// recorded is the total duration of the rows.
func recorded(rows []store.Segment) time.Duration {
	var d time.Duration
	for _, r := range rows {
		d += r.End.Sub(r.Start)
	}
	return d
}

// freeUDPPair finds an even UDP port whose successor is free too.
func freeUDPPair(t *testing.T) string {
	t.Helper()
	for range 50 {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := c.LocalAddr().(*net.UDPAddr).Port
		c.Close()
		if p%2 != 0 || p > 65000 {
			continue
		}
		a, err1 := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p))
		b, err2 := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p+1))
		if a != nil {
			a.Close()
		}
		if b != nil {
			b.Close()
		}
		if err1 == nil && err2 == nil {
			return fmt.Sprintf("127.0.0.1:%d", p)
		}
	}
	t.Fatal("no free UDP port pair")
	return ""
}
