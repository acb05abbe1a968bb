package api_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/usage"
)

// TestUsageRoute: usage counted on a node and flushed is reported per
// day, camera and label, as JSON and CSV, to the organisation's owners
// and admins only (other members 403, other organisations 404, even for
// a camera of theirs counted under the wrong org id); bad ranges,
// groupings and formats are 400s that say why.
func TestUsageRoute(t *testing.T) {
	e := start(t)
	w := e.world()
	e.must(e.do("PATCH", "/api/v1/cameras/"+w.camA, w.tok["admin"], map[string]any{"labels": map[string]string{"site": "shibuya"}}), 200)
	camA2 := e.must(e.do("POST", "/api/v1/cameras", w.tok["admin"], map[string]any{"org_id": w.orgA, "name": "yard",
		"labels": map[string]string{"site": "ebisu"}}), 201).str("id")
	m := e.app.Usage
	m.Add("local", w.orgA, w.camA, usage.EgressVOD, 1000)
	m.Add("local", w.orgA, w.camA, usage.EgressWebRTC, 500)
	m.Add("local", "", camA2, usage.EgressClip, 300) // organisation looked up at the flush
	m.Add("local", w.orgA, camA2, usage.Exports, 2)
	m.Add("local", w.orgB, w.camB, usage.EgressVOD, 7777)
	e.app.UsageFlusher.Flush(context.Background())
	if tot := m.Totals(); tot != [len(tot)]int64{} {
		t.Fatalf("counts left after a flush: %v", tot)
	}
	if metrics := string(e.must(e.do("GET", "/metrics", "", nil), 200).Raw); !strings.Contains(metrics, `camcloud_usage_flushed_total{kind="egress_vod"} 8777`) ||
		!strings.Contains(metrics, `camcloud_usage_flushes_total{result="ok",zone="local"}`) {
		t.Errorf("usage metrics missing from /metrics")
	}

	get := func(tok, q string) resp { return e.do("GET", "/api/v1/orgs/"+w.orgA+"/usage"+q, tok, nil) }
	rep := e.must(get(w.tok["owner"], "?group_by=camera"), 200)
	rows := rep.Body["rows"].([]any)
	if len(rows) != 2 {
		t.Fatalf("rows by camera: %s", rep.Raw)
	}
	total := rep.Body["total"].(map[string]any)
	if total["egress_bytes"].(float64) != 1800 || total["exports"].(float64) != 2 {
		t.Errorf("total: %v", total)
	}
	for _, r := range rows {
		r := r.(map[string]any)
		eg := r["egress"].(map[string]any)
		switch r["key"] {
		case w.camA:
			if r["name"] != "front door" || eg["vod"].(float64) != 1000 || eg["webrtc"].(float64) != 500 {
				t.Errorf("camera A: %v", r)
			}
		case camA2:
			if eg["clip"].(float64) != 300 {
				t.Errorf("camera A2: %v", r)
			}
		default:
			t.Errorf("a row of another camera: %v", r)
		}
	}
	byLabel := e.must(get(w.tok["admin"], "?group_by=label:site"), 200)
	got := map[string]float64{}
	for _, r := range byLabel.Body["rows"].([]any) {
		r := r.(map[string]any)
		got[r["key"].(string)] = r["egress_bytes"].(float64)
	}
	if got["shibuya"] != 1500 || got["ebisu"] != 300 || len(got) != 2 {
		t.Errorf("by label: %v", got)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	byDay := e.must(get(w.tok["owner"], ""), 200)
	if d := byDay.Body["rows"].([]any); len(d) != 1 || d[0].(map[string]any)["key"] != today {
		t.Errorf("by day: %s", byDay.Raw)
	}

	// CSV, by parameter and by Accept.
	for _, how := range []string{"param", "accept"} {
		req, _ := http.NewRequest("GET", e.base+"/api/v1/orgs/"+w.orgA+"/usage?group_by=camera", nil)
		if how == "param" {
			req.URL.RawQuery += "&format=csv"
		} else {
			req.Header.Set("Accept", "text/csv")
		}
		req.Header.Set("Authorization", "Bearer "+w.tok["owner"])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(res.Body).ReadAll()
		res.Body.Close()
		if err != nil || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") || len(recs) != 3 || recs[0][0] != "key" || recs[0][6] != "egress_bytes" {
			t.Fatalf("CSV (%s): %v %v %v", how, res.Header, recs, err)
		}
		for _, r := range recs[1:] {
			if r[0] == w.camA && r[6] != "1500" {
				t.Errorf("CSV row of camera A: %v", r)
			}
		}
	}

	// Tenant isolation: org B's usage is not in A's report, and B's owner
	// cannot read A's; A's operator and viewer may not read it at all.
	for _, c := range []struct {
		tok    string
		status int
	}{{w.tok["operator"], 403}, {w.tok["viewer"], 403}, {w.tok["other"], 404}, {"", 401}} {
		if res := get(c.tok, ""); res.Status != c.status {
			t.Errorf("status %d, want %d: %s", res.Status, c.status, res.Raw)
		}
	}
	repB := e.must(e.do("GET", "/api/v1/orgs/"+w.orgB+"/usage?group_by=camera", w.tok["other"], nil), 200)
	if rows := repB.Body["rows"].([]any); len(rows) != 1 || rows[0].(map[string]any)["key"] != w.camB {
		t.Errorf("org B's report: %s", repB.Raw)
	}

	for _, c := range []struct{ q, msg string }{
		{"?from=2025-01-01&to=2026-01-02", "at most 366 days"},
		{"?from=2026-03-02&to=2026-03-01", "before"},
		{"?from=yesterday", "must be a day"},
		{"?to=2026-13-01", "must be a day"},
		{"?group_by=week", "group_by must be"},
		{"?group_by=label:", "label key"},
		{"?group_by=label:a%3Db", "label key"},
		{"?format=xml", "format must be"},
	} {
		res := get(w.tok["owner"], c.q)
		if res.Status != 400 || !strings.Contains(string(res.Raw), c.msg) {
			t.Errorf("%s: %d %s, want 400 mentioning %q", c.q, res.Status, res.Raw, c.msg)
		}
	}
	e.must(get(w.tok["owner"], "?from=2025-01-01&to=2026-01-01"), 200) // 366 days
}
