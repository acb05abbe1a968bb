package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/sample"
	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestHoldsAPI: holds are placed, listed, audited and released through
// the API; bad input is a clear 400 and changes nothing; another
// tenant's camera is not found; a held camera cannot be deleted, and the
// refusal names the hold.
func TestHoldsAPI(t *testing.T) {
	e := start(t)
	w := e.world()
	path := "/api/v1/cameras/" + w.camA + "/holds"
	now := time.Now().UTC().Truncate(time.Second)
	from, to := now.Add(-2*time.Hour).Format(time.RFC3339), now.Add(-time.Hour).Format(time.RFC3339)
	body := func(from, to, reason string) map[string]string {
		return map[string]string{"from": from, "to": to, "reason": reason}
	}

	for _, c := range []struct {
		name string
		body any
		want string
	}{
		{"from after to", body(to, from, "x"), "from must be before to"},
		{"from equals to", body(from, from, "x"), "from must be before to"},
		{"no range", map[string]string{"reason": "x"}, "from and to are required"},
		{"no reason", body(from, to, "  "), "reason is required"},
		{"reason too long", body(from, to, strings.Repeat("r", 501)), "longer than 500"},
		{"control character", body(from, to, "a\x07b"), "control"},
		{"far future", body(from, now.Add(2*366*24*time.Hour).Format(time.RFC3339), "x"), "more than a year"},
		{"bad time", body("yesterday", to, "x"), ""},
		{"unknown field", map[string]any{"from": from, "to": to, "reason": "x", "camera": "y"}, ""},
	} {
		r := e.do("POST", path, w.tok["admin"], c.body)
		if r.Status != 400 || !strings.Contains(string(r.Raw), c.want) {
			t.Errorf("%s: %d %s, want 400 with %q", c.name, r.Status, r.Raw, c.want)
		}
	}
	// Another organisation's camera does not exist for its owner.
	if r := e.do("POST", "/api/v1/cameras/"+w.camB+"/holds", w.tok["owner"], body(from, to, "x")); r.Status != 404 {
		t.Errorf("hold on another tenant's camera: %d %s", r.Status, r.Raw)
	}
	if r := e.do("GET", "/api/v1/cameras/"+w.camB+"/holds", w.tok["owner"], nil); r.Status != 404 {
		t.Errorf("holds of another tenant's camera: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", path, w.tok["operator"], body(from, to, "x")); r.Status != 403 {
		t.Errorf("an operator placed a hold: %d %s", r.Status, r.Raw)
	}
	var list struct{ Holds []map[string]any }
	testenv.APICall(t, e.base, w.tok["viewer"], "GET", path, nil, &list)
	if len(list.Holds) != 0 {
		t.Fatalf("refused requests stored holds: %+v", list.Holds)
	}

	h := e.must(e.do("POST", path, w.tok["admin"], body(from, to, "  incident 42: forklift  ")), 201)
	id := h.str("id")
	if h.str("reason") != "incident 42: forklift" || h.str("from") != from || h.str("camera_id") != w.camA || h.str("created_by_email") != "admin@a.example" {
		t.Fatalf("placed hold %s", h.Raw)
	}
	testenv.APICall(t, e.base, w.tok["viewer"], "GET", path, nil, &list)
	if len(list.Holds) != 1 || list.Holds[0]["id"] != id {
		t.Fatalf("holds listed %+v", list.Holds)
	}

	// The held camera cannot be deleted; the message names the hold.
	r := e.do("DELETE", "/api/v1/cameras/"+w.camA, w.tok["admin"], nil)
	if r.Status != 409 || r.errCode() != "held" || !strings.Contains(string(r.Raw), id) || !strings.Contains(string(r.Raw), "incident 42") {
		t.Fatalf("delete of a held camera: %d %s", r.Status, r.Raw)
	}
	e.must(e.do("GET", "/api/v1/cameras/"+w.camA, w.tok["admin"], nil), 200)

	if r := e.do("DELETE", path+"/"+id, w.tok["other"], nil); r.Status != 404 {
		t.Errorf("another tenant released a hold: %d", r.Status)
	}
	if r := e.do("DELETE", path+"/"+id, w.tok["operator"], nil); r.Status != 403 {
		t.Errorf("an operator released a hold: %d", r.Status)
	}
	e.must(e.do("DELETE", path+"/"+id, w.tok["owner"], nil), 204)
	if r := e.do("DELETE", path+"/"+id, w.tok["owner"], nil); r.Status != 404 {
		t.Errorf("second release: %d", r.Status)
	}
	e.must(e.do("DELETE", "/api/v1/cameras/"+w.camA, w.tok["admin"], nil), 204)

	var audit struct {
		Entries []struct{ Action, Target, Detail, Actor string }
	}
	testenv.APICall(t, e.base, w.tok["owner"], "GET", "/api/v1/audit?org="+w.orgA, nil, &audit)
	seen := map[string]string{}
	for _, x := range audit.Entries {
		if x.Target == "hold:"+id {
			seen[x.Action] = x.Actor + " " + x.Detail
		}
	}
	if !strings.Contains(seen["hold.place"], "admin@a.example") || !strings.Contains(seen["hold.place"], "incident 42") ||
		!strings.Contains(seen["hold.release"], "owner@a.example") {
		t.Fatalf("audit of the hold: %v", seen)
	}
}

// TestQuotaAPI: the quota is set by owners and admins with bounds, shown
// on the organisation, and the storage route answers per camera.
func TestQuotaAPI(t *testing.T) {
	e := start(t)
	w := e.world()
	p := "/api/v1/orgs/" + w.orgA
	for _, b := range []any{map[string]any{"storage_quota_bytes": -1}, map[string]any{"storage_quota_bytes": 1.5},
		map[string]any{"storage_quota_bytes": int64(1)<<60 + 1}, map[string]any{}, map[string]any{"name": "x"}} {
		if r := e.do("PATCH", p, w.tok["admin"], b); r.Status != 400 {
			t.Errorf("PATCH %v: %d %s, want 400", b, r.Status, r.Raw)
		}
	}
	if r := e.do("PATCH", p, w.tok["operator"], map[string]any{"storage_quota_bytes": 5}); r.Status != 403 {
		t.Errorf("operator set a quota: %d", r.Status)
	}
	if r := e.do("PATCH", p, w.tok["other"], map[string]any{"storage_quota_bytes": 5}); r.Status != 404 {
		t.Errorf("another tenant set a quota: %d", r.Status)
	}
	o := e.must(e.do("PATCH", p, w.tok["owner"], map[string]any{"storage_quota_bytes": 1 << 30}), 200)
	if q, _ := o.Body["storage_quota_bytes"].(float64); q != 1<<30 {
		t.Fatalf("PATCH answered %s", o.Raw)
	}
	st := e.must(e.do("GET", p+"/storage", w.tok["viewer"], nil), 200)
	cams, _ := st.Body["cameras"].([]any)
	if q, _ := st.Body["storage_quota_bytes"].(float64); q != 1<<30 || len(cams) != 1 {
		t.Fatalf("storage %s", st.Raw)
	}
	if r := e.do("GET", "/api/v1/orgs/"+w.orgB+"/storage", w.tok["owner"], nil); r.Status != 404 {
		t.Errorf("another tenant's storage: %d", r.Status)
	}
}

// storageOf reads an organisation's storage answer.
type storageAnswer struct {
	Quota   int64 `json:"storage_quota_bytes"`
	Used    int64 `json:"used_bytes"`
	Cameras []struct {
		ID     string
		Used   int64      `json:"used_bytes"`
		Oldest *time.Time `json:"oldest_recording"`
	}
}

// TestQuotaKeepsRecording: an organisation at its quota goes on
// recording with no gap while its oldest recordings are deleted; another
// organisation's camera, recording beside it, keeps everything.
func TestQuotaKeepsRecording(t *testing.T) {
	e := start(t, "--segment-duration", "2s", "--retention-interval", "1s")
	w := e.world()
	smp, err := sample.Load("../../testdata/sample-h264.ts")
	if err != nil {
		t.Fatal(err)
	}
	push := func(org, token string) string {
		r := e.must(e.do("POST", "/api/v1/cameras", token, map[string]any{"org_id": org, "name": "q-" + org, "source": map[string]string{"type": "push"}}), 201)
		ing, _ := r.Body["ingest"].(map[string]any)
		u, _ := ing["rtsp_url"].(string)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = sim.Push(ctx, []string{u}, smp, nil) }()
		t.Cleanup(func() { cancel(); <-done })
		return r.str("id")
	}
	camA := push(w.orgA, w.tok["admin"])
	camB := push(w.orgB, w.tok["other"])
	storage := func(org, token, cam string) (storageAnswer, int64, time.Time) {
		var st storageAnswer
		testenv.APICall(t, e.base, token, "GET", "/api/v1/orgs/"+org+"/storage", nil, &st)
		for _, c := range st.Cameras {
			if c.ID == cam && c.Oldest != nil {
				return st, c.Used, *c.Oldest
			}
		}
		return st, 0, time.Time{}
	}
	// Record about 12 s, then cap A at what it holds then.
	var used int64
	var firstA, firstB time.Time
	testenv.Eventually(t, 60*time.Second, "both cameras recorded for 12 s", func() bool {
		_, u, o := storage(w.orgA, w.tok["admin"], camA)
		_, ub, ob := storage(w.orgB, w.tok["other"], camB)
		firstA, firstB, used = o, ob, u
		return u > 0 && ub > 0 && time.Since(o) >= 12*time.Second
	})
	e.must(e.do("PATCH", "/api/v1/orgs/"+w.orgA, w.tok["owner"], map[string]any{"storage_quota_bytes": used}), 200)
	// Its oldest recordings go, more than once, while it stays near the quota.
	var oldest time.Time
	testenv.Eventually(t, 60*time.Second, "A's oldest recordings deleted for the quota", func() bool {
		_, _, o := storage(w.orgA, w.tok["admin"], camA)
		oldest = o
		return o.After(firstA.Add(6 * time.Second))
	})
	st, u, _ := storage(w.orgA, w.tok["admin"], camA)
	if u > used+used/2 || st.Quota != used {
		t.Errorf("A uses %d bytes with a quota of %d", u, used)
	}
	// No gap: what is kept is one span from the oldest kept to now.
	var rec struct {
		Spans []struct{ Start, End time.Time }
	}
	testenv.APICall(t, e.base, w.tok["admin"], "GET", "/api/v1/cameras/"+camA+"/recordings?from="+oldest.Add(-time.Second).Format(time.RFC3339Nano), nil, &rec)
	if len(rec.Spans) != 1 || time.Since(rec.Spans[0].End) > 5*time.Second {
		t.Fatalf("A's recordings since %s: %+v (want one span up to now)", oldest, rec.Spans)
	}
	// B, without a quota, kept its first recording.
	if _, _, ob := storage(w.orgB, w.tok["other"], camB); !ob.Equal(firstB) {
		t.Fatalf("B's oldest recording moved from %s to %s", firstB, ob)
	}
}
