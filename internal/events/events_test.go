package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/config"
	"github.com/camcloud/camcloud/internal/events"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/testenv"
	"github.com/camcloud/camcloud/internal/zone"
)

// fixture is a directory with two organisations, a camera each, and the
// event service over one zone, on SQLite or MySQL.
type fixture struct {
	svc        *events.Service
	dir        store.Directory
	camA, camB store.Camera
	ownerA     *authz.Principal
	viewerA    *authz.Principal
	ownerB     *authz.Principal
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newFixture(t *testing.T, dirDSN, zoneDSN string) *fixture {
	t.Helper()
	ctx := ctxT(t)
	dir, err := store.OpenDirectory(ctx, dirDSN, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	zones, err := zone.Open(ctx, []config.Zone{{Name: "z1", DB: zoneDSN, Store: config.Store{Type: "local", Dir: t.TempDir()}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(zones.Close)
	f := &fixture{dir: dir}
	for i, o := range []string{"org-a", "org-b"} {
		if err := dir.CreateOrg(ctx, store.Org{ID: o, Name: o, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		c := store.Camera{ID: fmt.Sprintf("cam-%d", i), OrgID: o, Name: "c", Zone: "z1", SourceType: "push", RetentionDays: 7, Recording: "continuous", CreatedAt: time.Now()}
		if err := dir.CreateCamera(ctx, c); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			f.camA = c
		} else {
			f.camB = c
		}
	}
	f.ownerA = &authz.Principal{UserID: "u-owner-a", Roles: map[string]string{"org-a": store.RoleOwner}}
	f.viewerA = &authz.Principal{UserID: "u-viewer-a", Roles: map[string]string{"org-a": store.RoleViewer}}
	f.ownerB = &authz.Principal{UserID: "u-owner-b", Roles: map[string]string{"org-b": store.RoleOwner}}
	f.svc, err = events.New(events.Config{Dir: dir, Zones: zones, PollInterval: 50 * time.Millisecond, MaxStreamsPerUser: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.svc.Stop)
	return f
}

// forEngines runs fn on SQLite and on MySQL.
func forEngines(t *testing.T, fn func(t *testing.T, f *fixture)) {
	t.Run("sqlite", func(t *testing.T) {
		d := t.TempDir()
		fn(t, newFixture(t, "sqlite:"+filepath.Join(d, "dir.db"), "sqlite:"+filepath.Join(d, "zone.db")))
	})
	t.Run("mysql", func(t *testing.T) {
		dsns := testenv.MySQLDatabases(t, "evdir", "evzone")
		fn(t, newFixture(t, dsns[0], dsns[1]))
	})
}

func TestService(t *testing.T) {
	forEngines(t, func(t *testing.T, f *fixture) {
		t.Run("record and list", func(t *testing.T) { testRecordList(t, f) })
		t.Run("ranged", func(t *testing.T) { testRanged(t, f) })
		t.Run("post", func(t *testing.T) { testPost(t, f) })
		t.Run("stream", func(t *testing.T) { testStream(t, f) })
	})
}

func testRecordList(t *testing.T, f *fixture) {
	ctx := ctxT(t)
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	var want []string
	for i := range 5 {
		e, err := f.svc.Record(ctx, events.Event{CameraID: f.camA.ID, Type: events.TypeOnline, Start: base.Add(time.Duration(i) * time.Second),
			Detail: events.Detail(map[string]int{"i": i})})
		if err != nil {
			t.Fatal(err)
		}
		if e.OrgID != "org-a" || e.Zone != "z1" || e.Seq == 0 || e.Source != events.SourceSystem {
			t.Fatalf("recorded %+v", e)
		}
		want = append([]string{e.ID}, want...)
	}
	if _, err := f.svc.Record(ctx, events.Event{CameraID: f.camB.ID, Type: events.TypeOffline, Start: base}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Record(ctx, events.Event{CameraID: "missing", Type: events.TypeOffline}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown camera: %v", err)
	}
	var ie *events.InputError
	if _, err := f.svc.Record(ctx, events.Event{CameraID: f.camA.ID, Type: "nonsense"}); !errors.As(err, &ie) {
		t.Fatalf("bad type: %v", err)
	}
	// Pages of 2, newest first; the viewer sees org A's only.
	var got []string
	cursor := ""
	for range 10 {
		p, err := f.svc.List(ctx, f.viewerA, events.Filter{Types: []string{events.TypeOnline, events.TypeOffline}, Limit: 2}, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Events {
			got = append(got, e.ID)
		}
		if cursor = p.Next; cursor == "" {
			break
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
	p, err := f.svc.List(ctx, f.ownerB, events.Filter{CameraID: f.camA.ID}, "")
	if err != nil || len(p.Events) != 0 {
		t.Fatalf("other org sees %d events (%v)", len(p.Events), err)
	}
	p, err = f.svc.List(ctx, f.ownerB, events.Filter{OrgID: "org-a"}, "")
	if err != nil || len(p.Events) != 0 {
		t.Fatalf("other org's org filter: %d events (%v)", len(p.Events), err)
	}
	for _, bad := range []events.Filter{{Types: []string{"nope"}}, {Limit: events.MaxLimit + 1}, {From: base, To: base}} {
		if _, err := f.svc.List(ctx, f.ownerA, bad, ""); !errors.As(err, &ie) {
			t.Errorf("filter %+v: %v", bad, err)
		}
	}
	if _, err := f.svc.List(ctx, f.ownerA, events.Filter{}, "!!"); !errors.As(err, &ie) {
		t.Errorf("bad cursor: %v", err)
	}
}

func testRanged(t *testing.T, f *fixture) {
	ctx := ctxT(t)
	head, err := f.svc.Head(ctx, "z1")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Minute)
	id, err := f.svc.Open(ctx, events.Event{CameraID: f.camA.ID, Type: events.TypeMotion, Start: start, Source: events.SourceMotion})
	if err != nil {
		t.Fatal(err)
	}
	tail, err := f.svc.Tail(ctx, "z1", head, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(tail) != 1 || !tail[0].Ongoing || tail[0].ID != id {
		t.Fatalf("tail after open %+v", tail)
	}
	if err := f.svc.Close(ctx, id, start.Add(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Close(ctx, id, start.Add(6*time.Second)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("closed twice: %v", err)
	}
	tail, err = f.svc.Tail(ctx, "z1", tail[0].Seq, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(tail) != 1 || tail[0].Ongoing || tail[0].ID != id || tail[0].End.Sub(tail[0].Start) != 5*time.Second {
		t.Fatalf("tail after close %+v", tail)
	}
	// CloseOngoing ends what was left open.
	for range 2 {
		if _, err := f.svc.Open(ctx, events.Event{CameraID: f.camA.ID, Type: events.TypeRecordingGap}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := f.svc.CloseOngoing(ctx, f.camA.ID, events.TypeRecordingGap, time.Now())
	if err != nil || n != 2 {
		t.Fatalf("closed %d (%v)", n, err)
	}
}

func testPost(t *testing.T, f *fixture) {
	ctx := ctxT(t)
	now := time.Now()
	e, err := f.svc.Post(ctx, f.ownerA, f.camA, events.Custom{Type: "custom.door", Start: now.Add(-time.Minute), End: now,
		Detail: json.RawMessage(`{ "door" : "front" }`), Source: "user:u-owner-a"})
	if err != nil {
		t.Fatal(err)
	}
	if string(e.Detail) != `{"door":"front"}` || e.Source != "user:u-owner-a" || e.End.IsZero() {
		t.Fatalf("posted %+v", e)
	}
	if _, err := f.svc.Post(ctx, f.viewerA, f.camA, events.Custom{Type: "custom"}); !errors.Is(err, authz.ErrForbidden) {
		t.Fatalf("viewer posted: %v", err)
	}
	if _, err := f.svc.Post(ctx, f.ownerB, f.camA, events.Custom{Type: "custom"}); !errors.Is(err, authz.ErrNotFound) {
		t.Fatalf("other org posted: %v", err)
	}
	big := `{"x":"` + strings.Repeat("a", events.MaxDetail) + `"}`
	for name, c := range map[string]events.Custom{
		"system type":     {Type: events.TypeOffline},
		"unknown type":    {Type: "door"},
		"bad custom name": {Type: "custom.Door!"},
		"future":          {Type: "custom", Start: now.Add(10 * time.Minute)},
		"too old":         {Type: "custom", Start: now.Add(-8 * 24 * time.Hour)},
		"end before":      {Type: "custom", Start: now, End: now.Add(-time.Second)},
		"end future":      {Type: "custom", Start: now, End: now.Add(time.Hour)},
		"too long":        {Type: "custom", Start: now.Add(-48 * time.Hour), End: now},
		"big detail":      {Type: "custom", Detail: json.RawMessage(big)},
		"array detail":    {Type: "custom", Detail: json.RawMessage(`[1]`)},
	} {
		var ie *events.InputError
		if _, err := f.svc.Post(ctx, f.ownerA, f.camA, c); !errors.As(err, &ie) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func testStream(t *testing.T, f *fixture) {
	ctx := ctxT(t)
	subA, err := f.svc.Subscribe(ctx, f.viewerA, events.StreamFilter{}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer subA.Close()
	subB, err := f.svc.Subscribe(ctx, f.ownerB, events.StreamFilter{Types: []string{events.TypeOffline}}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer subB.Close()
	// Per-user bound (2 in the fixture).
	extra, err := f.svc.Subscribe(ctx, f.viewerA, events.StreamFilter{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Subscribe(ctx, f.viewerA, events.StreamFilter{}, ""); !errors.Is(err, events.ErrTooManyStreams) {
		t.Fatalf("third stream: %v", err)
	}
	extra.Close()
	var ids []string
	for _, c := range []store.Camera{f.camA, f.camB, f.camA} {
		e, err := f.svc.Record(ctx, events.Event{CameraID: c.ID, Type: events.TypeOffline})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	got := collect(t, subA, 2)
	if got[0].Event.ID != ids[0] || got[1].Event.ID != ids[2] {
		t.Fatalf("A got %v", got)
	}
	gotB := collect(t, subB, 1)
	if gotB[0].Event.ID != ids[1] {
		t.Fatalf("B got %v", gotB)
	}
	// Resume after the first delivery: the second comes again.
	again, err := f.svc.Subscribe(ctx, f.viewerA, events.StreamFilter{}, got[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if r := collect(t, again, 1); r[0].Event.ID != ids[2] {
		t.Fatalf("resumed with %v", r)
	}
	if _, err := f.svc.Subscribe(ctx, f.ownerA, events.StreamFilter{}, "z1=x"); err == nil {
		t.Fatal("bad Last-Event-ID accepted")
	}
	// Nothing more: Next times out empty.
	if d, err := subA.Next(ctx, 200*time.Millisecond); err != nil || len(d) != 0 {
		t.Fatalf("next: %v %v", d, err)
	}
}

// collect reads n deliveries from sub.
func collect(t *testing.T, sub *events.Subscription, n int) []events.Delivery {
	t.Helper()
	var out []events.Delivery
	deadline := time.Now().Add(10 * time.Second)
	for len(out) < n && time.Now().Before(deadline) {
		d, err := sub.Next(ctxT(t), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d...)
	}
	if len(out) != n {
		t.Fatalf("got %d deliveries, want %d", len(out), n)
	}
	return out
}
