package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/audit"
	"github.com/camcloud/camcloud/internal/testenv"
)

// soGet fetches u and returns the status and (bounded) body.
func soGet(t *testing.T, u string) (int, []byte) {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second}
	res, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return res.StatusCode, b
}

// checkAPI asks one api node for everything a user does with each camera:
// the list with zones and holders, the recorded spans, an HLS playback
// session with a segment, a clip export that ffprobe decodes, and a live
// session at the camera server that holds the camera.
func (d *deployment) checkAPI(ctx context.Context, a *node, cams []*soCam) {
	t := d.t
	t.Helper()
	base := "http://" + a.http
	var list struct {
		Cameras []struct {
			ID     string
			Zone   string
			Status struct {
				Online bool
				Server string
			}
		}
	}
	testenv.APICall(t, base, d.token, "GET", "/api/v1/cameras", nil, &list)
	seen := map[string]bool{}
	for _, c := range list.Cameras {
		seen[c.ID] = true
		for _, sc := range cams {
			if sc.id == c.ID && (c.Zone != sc.zone.name || !c.Status.Online || c.Status.Server == "") {
				t.Errorf("%s: camera %s listed as zone %q online %v server %q", a.name, c.ID, c.Zone, c.Status.Online, c.Status.Server)
			}
		}
	}
	for _, c := range cams {
		if !seen[c.id] {
			t.Errorf("%s: camera %s missing from the list", a.name, c.id)
		}
		rows, err := segments(ctx, c.zone.db, c.id)
		if err != nil || len(rows) == 0 {
			t.Fatalf("camera %s: no rows (%v)", c.id, err)
		}
		from, to := rows[0].Start, rows[len(rows)-1].End
		q := "?from=" + url.QueryEscape(from.Format(time.RFC3339Nano)) + "&to=" + url.QueryEscape(to.Format(time.RFC3339Nano))
		var spans struct {
			Spans []struct{ Start, End time.Time }
		}
		testenv.APICall(t, base, d.token, "GET", "/api/v1/cameras/"+c.id+"/recordings"+q, nil, &spans)
		if len(spans.Spans) == 0 {
			t.Errorf("%s: camera %s: no spans", a.name, c.id)
		}

		var pb struct {
			HLSURL string `json:"hls_url"`
		}
		testenv.APICall(t, base, d.token, "POST", "/api/v1/cameras/"+c.id+"/playback", map[string]time.Time{"from": from, "to": to}, &pb)
		plURL, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		if plURL, err = plURL.Parse(pb.HLSURL); err != nil {
			t.Fatal(err)
		}
		code, pl := soGet(t, plURL.String())
		if code != 200 || !bytes.Contains(pl, []byte("#EXT-X-MAP")) {
			t.Fatalf("%s: camera %s: playlist %d %q", a.name, c.id, code, pl)
		}
		var seg string
		for _, l := range strings.Split(string(pl), "\n") {
			if l != "" && !strings.HasPrefix(l, "#") {
				seg = l
				break
			}
		}
		su, err := plURL.Parse(seg)
		if err != nil {
			t.Fatal(err)
		}
		if code, b := soGet(t, su.String()); code/100 != 2 || len(b) == 0 {
			t.Errorf("%s: camera %s: playback segment: %d, %d bytes", a.name, c.id, code, len(b))
		}

		clipTo := rows[0].End
		cq := "?from=" + url.QueryEscape(rows[0].Start.Format(time.RFC3339Nano)) + "&to=" + url.QueryEscape(clipTo.Format(time.RFC3339Nano))
		code, clip := d.authGet(base + "/api/v1/cameras/" + c.id + "/clip.mp4" + cq)
		if code != 200 {
			t.Fatalf("%s: camera %s: clip: %d %s", a.name, c.id, code, clip)
		}
		if p := testenv.FFprobe(t, clip); p.Frames == 0 {
			t.Errorf("%s: camera %s: exported clip has no frames", a.name, c.id)
		}

		var lv struct {
			HLSURL string `json:"hls_url"`
		}
		testenv.APICall(t, base, d.token, "POST", "/api/v1/cameras/"+c.id+"/live", nil, &lv)
		h := d.server(holder(ctx, c))
		if h == nil || !strings.HasPrefix(lv.HLSURL, "http://"+h.http+"/live/v1/") {
			t.Fatalf("%s: camera %s: live URL %s is not at the holder %v", a.name, c.id, lv.HLSURL, h)
		}
		if code, b := soGet(t, lv.HLSURL); code != 200 || !bytes.Contains(b, []byte("#EXTM3U")) {
			t.Errorf("%s: camera %s: live playlist at the holder: %d %.200q", a.name, c.id, code, b)
		}
	}
}

// authGet is a GET with the test's bearer token.
func (d *deployment) authGet(u string) (int, []byte) {
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+d.token)
	res, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		d.t.Fatalf("GET %s: %v", u, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 256<<20))
	return res.StatusCode, b
}

// killOne SIGKILLs the camera server of zone-a that holds its pulled
// camera, waits until the other server of the zone has all its cameras,
// starts the killed server again on its data directory (it recovers and
// uploads its spool) and checks the index of every camera around the kill.
func (d *deployment) killOne(ctx context.Context, cams []*soCam, mon *monitor, table *soTable) {
	t := d.t
	t.Helper()
	za := d.zones[0]
	var pulled *soCam
	for _, c := range cams {
		if c.zone == za && c.kind == "pull" {
			pulled = c
		}
	}
	victim := d.server(holder(ctx, pulled))
	if victim == nil {
		t.Fatalf("no holder for pulled camera %s", pulled.id)
	}
	moved := map[string]bool{}
	for _, c := range cams {
		if c.zone == za && holder(ctx, c) == victim.serverID() {
			moved[c.id] = true
		}
	}
	t0 := time.Now()
	victim.kill()
	d.waitServed(ctx, cams, 60*time.Second)
	t1 := time.Now()
	recoverAll := t1.Sub(t0)

	victim.start()
	victim.waitReady()
	deadline := time.Now().Add(60 * time.Second)
	for len(victim.spoolFiles()) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not upload its recovered spool: %v", victim.name, victim.spoolFiles())
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(soSegment + 2*soSlack) // the servers that took over close a segment
	f := &soFault{name: "SIGKILL " + victim.name, recover: recoverAll, gaps: map[string]time.Duration{}, outs: map[string]time.Duration{}, moved: moved}
	for _, c := range cams {
		rows, err := segments(ctx, c.zone.db, c.id)
		if err != nil {
			t.Fatal(err)
		}
		r := gapsAround(rows, t0, t1, soFragment+soSlack)
		out := mon.longest(c.id, t0, t1)
		f.gaps[c.id], f.outs[c.id] = r.gap, out
		if !r.resumed {
			t.Errorf("%s: camera %s: recording did not resume after the kill", f.name, c.id)
		}
		switch {
		case !moved[c.id]:
			if r.gap > soFragment {
				t.Errorf("%s: camera %s was not on the killed server but has a %s gap", f.name, c.id, r.gap)
			}
		case c.kind == "push":
			// What was spooled before the kill survives (at most the
			// fragment in flight is lost), and the hole is no longer than
			// the time the camera needed to reach the other server.
			if r.lost > soFragment+soSlack {
				t.Errorf("%s: camera %s: recording stops %s before the kill: spooled video lost", f.name, c.id, r.lost)
			}
			if r.gap > out+soFragment+soSlack {
				t.Errorf("%s: pushed camera %s: gap %s longer than its reconnect %s", f.name, c.id, r.gap, out)
			}
		default:
			if r.lost > soFragment+soSlack {
				t.Errorf("%s: camera %s: recording stops %s before the kill: spooled video lost", f.name, c.id, r.lost)
			}
			// Re-leasing takes the lease time plus a lease round; the hole
			// adds the wait for the first keyframe of the new pull.
			if limit := soLeaseTTL + soLeaseTTL/3 + soFragment + soGOP + 2*soSlack; r.gap > limit {
				t.Errorf("%s: pulled camera %s: gap %s longer than the lease time allows (%s)", f.name, c.id, r.gap, limit)
			}
		}
	}
	table.faults = append(table.faults, f)
}

// rollingRestart restarts every camera server in turn with SIGTERM, as a
// rolling deploy does, and checks each camera's index around each step.
func (d *deployment) rollingRestart(ctx context.Context, cams []*soCam, mon *monitor, table *soTable) {
	t := d.t
	t.Helper()
	for _, z := range d.zones {
		// The server with more cameras first, so that both steps of the zone
		// move cameras (there and back).
		order := append([]*node(nil), z.servers...)
		if d.held(ctx, cams, order[1]) > d.held(ctx, cams, order[0]) {
			order[0], order[1] = order[1], order[0]
		}
		for _, n := range order {
			moved := map[string]bool{}
			for _, c := range cams {
				if holder(ctx, c) == n.serverID() {
					moved[c.id] = true
				}
			}
			t0 := time.Now()
			if code := n.term(90 * time.Second); code != 0 {
				t.Errorf("%s: exit code %d after SIGTERM", n.name, code)
			}
			stopped := time.Since(t0)
			if left := n.spoolFiles(); len(left) > 0 {
				t.Errorf("%s: spool not uploaded before exit: %v", n.name, left)
			}
			d.waitServed(ctx, cams, 60*time.Second)
			t1 := time.Now()
			n.start()
			n.waitReady()
			// Let the moved cameras record past their first keyframe before
			// the next step, so that steps do not overlap.
			time.Sleep(soGOP + soSlack)
			f := &soFault{name: "SIGTERM " + n.name, recover: t1.Sub(t0), stopped: stopped, gaps: map[string]time.Duration{}, outs: map[string]time.Duration{}, moved: moved,
				from: t0, to: t1}
			table.faults = append(table.faults, f)
		}
	}
	time.Sleep(soSegment + 2*soSlack)
	for _, f := range table.faults {
		if f.from.IsZero() {
			continue
		}
		for _, c := range cams {
			rows, err := segments(ctx, c.zone.db, c.id)
			if err != nil {
				t.Fatal(err)
			}
			r := gapsAround(rows, f.from, f.to, soFragment+soSlack)
			out := mon.longest(c.id, f.from, f.to)
			f.gaps[c.id], f.outs[c.id] = r.gap, out
			limit := out + soFragment + soSlack
			if c.kind != "push" {
				limit += soGOP // a pull joins the camera mid-GOP
			}
			if !r.resumed || r.lost > soFragment/2 && f.moved[c.id] {
				t.Errorf("%s: camera %s: recording lost %s before the drain (resumed: %v)", f.name, c.id, r.lost, r.resumed)
			}
			if r.gap > limit {
				t.Errorf("%s: camera %s (%s): gap %s longer than one reconnect (%s out)", f.name, c.id, c.kind, r.gap, out)
			}
		}
	}
}

// held counts the cameras n receives.
func (d *deployment) held(ctx context.Context, cams []*soCam, n *node) int {
	k := 0
	for _, c := range cams {
		if holder(ctx, c) == n.serverID() {
			k++
		}
	}
	return k
}

// checkPlacement checks that each camera's rows and objects are in its own
// zone's DB and bucket only, and that every row's objects exist.
func (d *deployment) checkPlacement(ctx context.Context, cams []*soCam) {
	t := d.t
	t.Helper()
	zoneOf := map[string]*soZone{}
	for _, c := range cams {
		zoneOf[c.id] = c.zone
	}
	for _, z := range d.zones {
		objects := map[string]int{}
		err := z.blobs.List(ctx, "", func(key string, _ int64) error {
			if strings.HasPrefix(key, audit.CheckpointPrefix) {
				return nil // the first zone's store also keeps the audit log's checkpoints
			}
			parts := strings.Split(key, "/")
			if len(parts) < 3 || parts[0] != "cam" {
				t.Errorf("bucket %s: unexpected object %s", z.bucket, key)
				return nil
			}
			objects[parts[1]]++
			if zc := zoneOf[parts[1]]; zc != z {
				t.Errorf("bucket of %s holds object %s of a camera of another zone", z.name, key)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cams {
			rows, err := segments(ctx, z.db, c.id)
			if err != nil {
				t.Fatal(err)
			}
			if c.zone != z {
				if len(rows) > 0 || objects[c.id] > 0 {
					t.Errorf("camera %s of %s has %d rows and %d objects in %s", c.id, c.zone.name, len(rows), objects[c.id], z.name)
				}
				continue
			}
			if len(rows) == 0 {
				t.Errorf("camera %s: no rows in its zone %s", c.id, z.name)
			}
			for _, r := range rows {
				for _, k := range []string{r.Key, r.InitKey} {
					if _, err := z.blobs.Stat(ctx, k); err != nil {
						t.Errorf("camera %s: row points at %s: %v", c.id, k, err)
					}
				}
			}
		}
	}
}

// soFault is one fault of the test and what each camera saw.
type soFault struct {
	name     string
	from, to time.Time
	recover  time.Duration            // until every camera was served again
	stopped  time.Duration            // SIGTERM to exit (drain)
	gaps     map[string]time.Duration // longest hole in the index
	outs     map[string]time.Duration // longest time not received
	moved    map[string]bool
}

// soTable collects the figures the test prints.
type soTable struct{ faults []*soFault }

// log prints one row per camera and one column per fault (the longest hole
// in its recording around the fault; * marks the cameras the fault moved),
// then each fault's time to recover.
func (tb *soTable) log(t *testing.T, cams []*soCam) {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-10s %-7s %-5s", "camera", "zone", "kind")
	for i := range tb.faults {
		fmt.Fprintf(&b, " %11s", fmt.Sprintf("fault %d", i+1))
	}
	b.WriteString("\n")
	for _, c := range cams {
		fmt.Fprintf(&b, "%-10s %-7s %-5s", c.id[:min(8, len(c.id))], c.zone.name, c.kind)
		for _, f := range tb.faults {
			mark := " "
			if f.moved[c.id] {
				mark = "*"
			}
			fmt.Fprintf(&b, " %4.1f/%4.1fs%s", f.gaps[c.id].Seconds(), f.outs[c.id].Seconds(), mark)
		}
		b.WriteString("\n")
	}
	b.WriteString("\nfault                      cameras moved  recovered in  drain (SIGTERM to exit)\n")
	for i, f := range tb.faults {
		drain := "-"
		if f.stopped > 0 {
			drain = f.stopped.Round(100 * time.Millisecond).String()
		}
		fmt.Fprintf(&b, "%d %-24s %13d  %12s  %s\n", i+1, f.name, len(f.moved), f.recover.Round(100*time.Millisecond), drain)
	}
	t.Log(b.String())
}
