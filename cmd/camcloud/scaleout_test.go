package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	camcloud "github.com/camcloud/camcloud"
	"github.com/camcloud/camcloud/internal/config"
	"github.com/camcloud/camcloud/internal/sample"
	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/testenv"
	"github.com/camcloud/camcloud/internal/zone"
)

// Timing of the scale-out deployment: short, so that the test sees several
// segments, lease expiries and reconnects within a couple of minutes.
const (
	soSegment  = 4 * time.Second
	soFragment = time.Second
	soLeaseTTL = 3 * time.Second
	// soGOP is the keyframe interval of the built-in sample. A hole after a
	// pulled camera moves may include one GOP: a pull joins mid-GOP. Pushed
	// cameras start at a keyframe and the hub keeps a stream's first units
	// for its first reader, so their holes need no such allowance.
	soGOP = 2 * time.Second
	// soSlack absorbs scheduling and sampling delays on a busy machine.
	soSlack = time.Second
)

// TestScaleOut runs camcloud as it is deployed at scale, on one machine: a
// directory DB and two zone DBs on MariaDB, one S3 bucket per zone, two api
// processes and two camera servers per zone, pushed and pulled cameras in
// both zones. It checks that every camera is recorded in its own zone only,
// that either api serves every camera (list, playback, export, live at the
// holder), that a SIGKILLed camera server's cameras move to the other server
// of the zone with a gap no longer than the reconnect or lease time and
// without losing what was spooled, and that a rolling restart (SIGTERM, one
// server at a time) leaves no gap longer than one reconnect.
func TestScaleOut(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process scale-out test skipped in -short mode")
	}
	dsns := testenv.MySQLDatabases(t, "dir", "za", "zb")
	testenv.Tool(t, "ffprobe")
	s3 := testenv.StartS3(t)
	bin := buildBinary(t)
	began := time.Now()
	d := newDeployment(t, bin, s3, dsns)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d.openZones(ctx)

	cams := d.createCameras(ctx)
	mon := newMonitor()
	monCtx, monStop := context.WithCancel(ctx)
	defer monStop()
	go mon.run(monCtx, d.zones, cams)
	d.waitRecording(ctx, cams, 2)
	t.Logf("deployment up and recording %d cameras after %s", len(cams), time.Since(began).Round(time.Second))

	for _, a := range d.apis {
		d.checkAPI(ctx, a, cams)
	}
	t.Logf("both api nodes list, play back, export and send live sessions to the holder (%s)", time.Since(began).Round(time.Second))

	table := &soTable{}
	d.killOne(ctx, cams, mon, table)
	t.Logf("SIGKILL phase done (%s)", time.Since(began).Round(time.Second))
	d.rollingRestart(ctx, cams, mon, table)
	t.Logf("rolling restart done (%s)", time.Since(began).Round(time.Second))

	// Let the last segments close, stop the cameras, drain every server.
	time.Sleep(soSegment + soSlack)
	d.stopCameras()
	monStop()
	for _, z := range d.zones {
		for _, n := range z.servers {
			if code := n.term(90 * time.Second); code != 0 {
				t.Errorf("%s: exit code %d after SIGTERM", n.name, code)
			}
			if left := n.spoolFiles(); len(left) > 0 {
				t.Errorf("%s: spool not empty after drain: %v", n.name, left)
			}
		}
	}
	d.checkPlacement(ctx, cams)
	table.log(t, cams)
	t.Logf("scale-out test took %s", time.Since(began).Round(time.Second))
}

// deployment is the processes and stores of the scale-out test.
type deployment struct {
	t     *testing.T
	zones []*soZone
	apis  []*node
	s3    testenv.S3Server
	cfg   string
	smp   *sample.Sample
	pull  *sim.PullServer
	stop  context.CancelFunc
	token string
}

// newDeployment writes the YAML configuration and starts two api nodes and
// two camera servers per zone, all at once, as an orchestrator would. Lines
// of extra are added to the configuration file.
func newDeployment(t *testing.T, bin string, s3 testenv.S3Server, dsns []string, extra ...string) *deployment {
	t.Helper()
	work := t.TempDir()
	var r [4]byte
	_, _ = rand.Read(r[:])
	run := hex.EncodeToString(r[:])
	d := &deployment{t: t, s3: s3}
	for i, name := range []string{"zone-a", "zone-b"} {
		z := &soZone{name: name, dsn: dsns[1+i], bucket: "camcloud-so-" + run + "-" + name}
		for k := 1; k <= 2; k++ {
			n := &node{t: t, name: fmt.Sprintf("%s/cs%d", name, k), bin: bin,
				dataDir: filepath.Join(work, fmt.Sprintf("%s-cs%d", name, k)), http: testenv.ChildAddr(t), rtsp: testenv.ChildAddr(t)}
			n.args = []string{"--role", "camera-server", "--zone", name, "--data-dir", n.dataDir,
				"--http", n.http, "--rtsp", n.rtsp, "--rtmp", testenv.ChildAddr(t), "--rtsp-udp", ""}
			z.servers = append(z.servers, n)
		}
		d.zones = append(d.zones, z)
	}
	for k := 1; k <= 2; k++ {
		n := &node{t: t, name: fmt.Sprintf("api%d", k), bin: bin, dataDir: filepath.Join(work, fmt.Sprintf("api%d", k)), http: testenv.ChildAddr(t)}
		n.args = []string{"--role", "api", "--data-dir", n.dataDir, "--http", n.http}
		d.apis = append(d.apis, n)
	}
	d.cfg = filepath.Join(work, "camcloud.yaml")
	if err := os.WriteFile(d.cfg, []byte(d.yaml(dsns[0], run)+strings.Join(extra, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	all := append(append([]*node(nil), d.apis...), append(d.zones[0].servers, d.zones[1].servers...)...)
	for _, n := range all {
		n.args = append([]string{"--config", d.cfg}, n.args...)
		n.start()
	}
	for _, n := range all {
		n.waitReady()
	}
	return d
}

// yaml is the shared configuration file: the directory, both zones with
// their DB, bucket and ingest address (the first camera server of the zone
// stands in for the zone's load balancer), the media key and short timings.
func (d *deployment) yaml(dirDSN, run string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "directory: %q\nmedia_key: %q\n", dirDSN, "scale-out-test-media-key-"+run+run+run)
	// The sim cameras the camera servers pull are on 127.0.0.1.
	fmt.Fprintf(&b, "pull_allow: [%q]\n", testenv.LoopbackAllow)
	fmt.Fprintf(&b, "segment_duration: %s\nfragment_duration: %s\nlease_ttl: %s\nlog_level: info\nzones:\n", soSegment, soFragment, soLeaseTTL)
	for _, z := range d.zones {
		fmt.Fprintf(&b, "  - name: %s\n    db: %q\n", z.name, z.dsn)
		fmt.Fprintf(&b, "    store: %s\n", d.s3.ZoneStore(z.bucket))
		fmt.Fprintf(&b, "    ingest: {rtsp: %q}\n", z.servers[0].rtsp)
	}
	return b.String()
}

// openZones opens each zone's DB and bucket for the test's own checks.
func (d *deployment) openZones(ctx context.Context) {
	log := slog.New(slog.DiscardHandler)
	for _, z := range d.zones {
		db, err := store.OpenZone(ctx, z.dsn, log)
		if err != nil {
			d.t.Fatal(err)
		}
		d.t.Cleanup(func() { db.Close() })
		z.db = db
		z.blobs, err = zone.OpenStore(ctx, config.Store{Type: "s3", Endpoint: d.s3.Endpoint, Region: "us-east-1", Bucket: z.bucket,
			Prefix: "rec/", AccessKey: d.s3.AccessKey, SecretKey: d.s3.SecretKey, PathStyle: true})
		if err != nil {
			d.t.Fatal(err)
		}
	}
}

// createCameras creates, through api1, two pushed and one pulled camera per
// zone: zone-a's by name, zone-b's without a zone (placement picks the zone
// with the fewest cameras), and starts the simulated cameras.
func (d *deployment) createCameras(ctx context.Context) []*soCam {
	t := d.t
	var err error
	if d.smp, err = sample.Parse(camcloud.SampleH264); err != nil {
		t.Fatal(err)
	}
	if d.pull, err = sim.ServePull("127.0.0.1:0", 2, d.smp, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.pull.Close)
	api := "http://" + d.apis[0].http
	var login struct{ Token string }
	testenv.APICall(t, api, "", "POST", "/api/v1/auth/login", map[string]string{"email": "admin@example.com", "password": "admin-password-1"}, &login)
	d.token = login.Token
	var org struct{ ID string }
	testenv.APICall(t, api, d.token, "POST", "/api/v1/orgs", map[string]string{"name": "scale-out"}, &org)
	pctx, stop := context.WithCancel(ctx)
	d.stop = stop
	var cams []*soCam
	for zi, z := range d.zones {
		for k, kind := range []string{"push", "push", "pull"} {
			body := map[string]any{"org_id": org.ID, "name": fmt.Sprintf("%s-%s-%d", z.name, kind, k)}
			if kind == "pull" {
				body["source"] = map[string]string{"type": "pull", "url": d.pull.URL(zi)}
			}
			if zi == 0 {
				body["zone"] = z.name
			}
			var created struct {
				ID     string
				Zone   string
				Ingest struct {
					RTSP string `json:"rtsp_url"`
				}
			}
			testenv.APICall(t, api, d.token, "POST", "/api/v1/cameras", body, &created)
			if created.Zone != z.name {
				t.Fatalf("camera %d of %s placed in zone %q", k, z.name, created.Zone)
			}
			c := &soCam{id: created.ID, zone: z, kind: kind}
			cams = append(cams, c)
			if kind == "pull" {
				continue
			}
			u, err := url.Parse(created.Ingest.RTSP)
			if err != nil || u.Host != z.servers[0].rtsp {
				t.Fatalf("ingest URL %q: want the zone's ingest address %s", created.Ingest.RTSP, z.servers[0].rtsp)
			}
			// A camera behind a load balancer: the zone's servers in turn,
			// starting at a different one per camera.
			urls := []string{u.String()}
			u.Host = z.servers[1].rtsp
			urls = append(urls, u.String())
			if k%2 == 1 {
				urls[0], urls[1] = urls[1], urls[0]
			}
			c.stats, c.urls = &sim.Stats{}, urls
			go func() { _ = sim.PushStats(pctx, urls, d.smp, nil, c.stats) }()
		}
	}
	return cams
}

// stopCameras ends the pushes and the pull server.
func (d *deployment) stopCameras() {
	d.stop()
	d.pull.Close()
	time.Sleep(soSlack)
}

// waitRecording waits until every camera is online and has n rows.
func (d *deployment) waitRecording(ctx context.Context, cams []*soCam, n int) {
	d.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for _, c := range cams {
		for {
			rows, err := segments(ctx, c.zone.db, c.id)
			if err == nil && len(rows) >= n && holder(ctx, c) != "" {
				break
			}
			if time.Now().After(deadline) {
				d.t.Fatalf("camera %s (%s, %s) has %d rows (err %v), holder %q", c.id, c.zone.name, c.kind, len(rows), err, holder(ctx, c))
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// server returns the camera-server node with the given id.
func (d *deployment) server(id string) *node {
	for _, z := range d.zones {
		for _, n := range z.servers {
			if n.id == id {
				return n
			}
		}
	}
	return nil
}

// waitServed waits until every camera is online on a running server that
// is not draining, and returns when that was.
func (d *deployment) waitServed(ctx context.Context, cams []*soCam, limit time.Duration) {
	d.t.Helper()
	deadline := time.Now().Add(limit)
	for _, c := range cams {
		for {
			if n := d.server(holder(ctx, c)); n != nil && n.up() {
				break
			}
			if time.Now().After(deadline) {
				d.t.Fatalf("camera %s (%s, %s) not taken over within %s (holder %q)", c.id, c.zone.name, c.kind, limit, holder(ctx, c))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}
