package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestScaleOutLifecycle: in the scale-out deployment (api nodes and camera
// servers in separate processes, two zones of two servers), a change made
// through an api node reaches whichever camera server holds the camera,
// which learns of it from the directory's per-zone change token: a deleted
// pushed camera's publisher is dropped and its credentials refused, a
// deleted pulled camera is no longer pulled, a camera whose recording is
// turned off stops recording; none of them records a segment that begins
// after the change, and turning recording back on resumes it.
func TestScaleOutLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process scale-out test skipped in -short mode")
	}
	dsns := testenv.MySQLDatabases(t, "dir", "za", "zb")
	s3 := testenv.StartS3(t)
	bin := buildBinary(t)
	d := newDeployment(t, bin, s3, dsns)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d.openZones(ctx)
	cams := d.createCameras(ctx)
	defer d.stopCameras()
	d.waitRecording(ctx, cams, 1)

	pick := func(zone, kind string) *soCam {
		for _, c := range cams {
			if c.zone.name == zone && c.kind == kind {
				return c
			}
		}
		t.Fatalf("no %s camera in %s", kind, zone)
		return nil
	}
	off, delPush, delPull := pick("zone-a", "push"), pick("zone-b", "push"), pick("zone-b", "pull")
	api := "http://" + d.apis[1].http // not the api node that created them
	changed := map[*soCam]time.Time{}
	changed[off] = time.Now()
	testenv.APICall(t, api, d.token, "PATCH", "/api/v1/cameras/"+off.id, map[string]string{"recording": "off"}, nil)
	for _, c := range []*soCam{delPush, delPull} {
		changed[c] = time.Now()
		if s := testenv.APIStatus(t, api, d.token, "DELETE", "/api/v1/cameras/"+c.id, nil, nil); s != 204 {
			t.Fatalf("delete %s: %d", c.id, s)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for delPush.stats.Connected.Load() || holder(ctx, delPush) != "" || holder(ctx, delPull) != "" {
		if time.Now().After(deadline) {
			t.Fatalf("deleted cameras still received: push connected %v held by %q, pull held by %q",
				delPush.stats.Connected.Load(), holder(ctx, delPush), holder(ctx, delPull))
		}
		time.Sleep(100 * time.Millisecond)
	}
	pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
	err := sim.PublishOnce(pctx, delPush.urls[0], d.smp, nil)
	pcancel()
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the deleted camera's credentials still publish: %v", err)
	}

	time.Sleep(2*soSegment + 2*soSlack) // two more segments would have closed by now
	for c, at := range changed {
		rows, err := segments(ctx, c.zone.db, c.id)
		if err != nil || len(rows) == 0 {
			t.Fatalf("camera %s: rows %d, %v", c.id, len(rows), err)
		}
		t.Logf("%s %s camera: the last segment ends %s after the change", c.zone.name, c.kind, rows[len(rows)-1].End.Sub(at).Round(100*time.Millisecond))
		for _, r := range rows {
			if r.Start.After(at.Add(soSegment)) {
				t.Errorf("%s %s camera %s: a segment begins %s after the change: still recording", c.zone.name, c.kind, c.id, r.Start.Sub(at).Round(100*time.Millisecond))
				break
			}
		}
	}
	if holder(ctx, off) == "" {
		t.Errorf("camera %s with recording off is no longer received: it should stay live", off.id)
	}

	on := time.Now()
	testenv.APICall(t, "http://"+d.apis[0].http, d.token, "PATCH", "/api/v1/cameras/"+off.id, map[string]string{"recording": "continuous"}, nil)
	deadline = time.Now().Add(60 * time.Second)
	for {
		rows, err := segments(ctx, off.zone.db, off.id)
		if err == nil && len(rows) > 0 && rows[len(rows)-1].Start.After(on) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("recording of %s did not resume (err %v)", off.id, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
