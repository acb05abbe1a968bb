package api_test

import (
	"fmt"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// TestCameraLabels: labels are set at creation and replaced by PATCH,
// shown on the camera, filter the camera list (key=value and key, every
// term must match), stay within an organisation, and bad labels or
// filters are a 400 that says why and change nothing.
func TestCameraLabels(t *testing.T) {
	e := start(t)
	w := e.world()
	mk := func(name string, labels map[string]string) string {
		return e.must(e.do("POST", "/api/v1/cameras", w.tok["admin"], map[string]any{"org_id": w.orgA, "name": name, "labels": labels}), 201).str("id")
	}
	shibuya := mk("s1", map[string]string{"site": "shibuya", "cost-center": "retail"})
	shinjuku := mk("s2", map[string]string{"site": " shinjuku "})
	labelsOf := func(id string) map[string]any {
		l, _ := e.must(e.do("GET", "/api/v1/cameras/"+id, w.tok["viewer"], nil), 200).Body["labels"].(map[string]any)
		return l
	}
	if got := labelsOf(shinjuku); !reflect.DeepEqual(got, map[string]any{"site": "shinjuku"}) {
		t.Errorf("trimmed labels: %v", got)
	}
	if got := labelsOf(w.camA); got == nil || len(got) != 0 {
		t.Errorf("a camera without labels shows %v, want {}", got)
	}
	// The other organisation's camera has the same label: never listed.
	e.must(e.do("PATCH", "/api/v1/cameras/"+w.camB, w.tok["other"], map[string]any{"labels": map[string]string{"site": "shibuya"}}), 200)

	list := func(tok string, terms ...string) []string {
		q := url.Values{"label": terms}
		var ids []string
		for _, c := range e.must(e.do("GET", "/api/v1/cameras?"+q.Encode(), tok, nil), 200).Body["cameras"].([]any) {
			ids = append(ids, c.(map[string]any)["id"].(string))
		}
		sort.Strings(ids)
		return ids
	}
	sorted := func(ids ...string) []string { sort.Strings(ids); return ids }
	for _, c := range []struct {
		terms []string
		want  []string
	}{
		{[]string{"site=shibuya"}, []string{shibuya}},
		{[]string{"site"}, sorted(shibuya, shinjuku)},
		{[]string{"site=shibuya", "cost-center=retail"}, []string{shibuya}},
		{[]string{"site=shinjuku", "cost-center"}, nil},
		{[]string{"site=osaka"}, nil},
	} {
		if got := list(w.tok["viewer"], c.terms...); !reflect.DeepEqual(got, c.want) {
			t.Errorf("label %v: %v, want %v", c.terms, got, c.want)
		}
	}
	if got := list(w.tok["other"], "site=shibuya"); !reflect.DeepEqual(got, []string{w.camB}) {
		t.Errorf("org B's filtered list: %v", got)
	}

	// PATCH replaces the set; {} removes every label; other fields keep them.
	e.must(e.do("PATCH", "/api/v1/cameras/"+shibuya, w.tok["admin"], map[string]any{"labels": map[string]string{"site": "ebisu"}}), 200)
	if got := labelsOf(shibuya); !reflect.DeepEqual(got, map[string]any{"site": "ebisu"}) {
		t.Errorf("after PATCH: %v", got)
	}
	e.must(e.do("PATCH", "/api/v1/cameras/"+shibuya, w.tok["admin"], map[string]any{"name": "renamed"}), 200)
	if got := labelsOf(shibuya); !reflect.DeepEqual(got, map[string]any{"site": "ebisu"}) {
		t.Errorf("a rename changed the labels: %v", got)
	}
	e.must(e.do("PATCH", "/api/v1/cameras/"+shinjuku, w.tok["admin"], map[string]any{"labels": map[string]string{}}), 200)
	if got := labelsOf(shinjuku); len(got) != 0 {
		t.Errorf("after PATCH {}: %v", got)
	}
	// A viewer may not set labels.
	e.must(e.do("PATCH", "/api/v1/cameras/"+shibuya, w.tok["viewer"], map[string]any{"labels": map[string]string{"site": "x"}}), 403)

	many := map[string]string{}
	for i := range 33 {
		many[fmt.Sprintf("k%d", i)] = "v"
	}
	bad := []struct {
		what   string
		labels any
		msg    string
	}{
		{"empty key", map[string]string{"": "x"}, "1 to 63"},
		{"blank key", map[string]string{"  ": "x"}, "1 to 63"},
		{"empty value", map[string]string{"site": ""}, "1 to 200"},
		{"null value", `{"labels":{"site":null}}`, "1 to 200"},
		{"long key", map[string]string{strings.Repeat("k", 64): "x"}, "1 to 63"},
		{"long value", map[string]string{"site": strings.Repeat("v", 201)}, "1 to 200"},
		{"key with =", map[string]string{"a=b": "x"}, "letters, digits"},
		{"key with a control character", map[string]string{"a\tb": "x"}, "letters, digits"},
		{"value with a control character", map[string]string{"site": "a\x00b"}, "control"},
		{"value with a newline", map[string]string{"site": "a\nb"}, "control"},
		{"value with a bidi override", map[string]string{"site": "a\u202Eb"}, "bidirectional"},
		{"keys equal once trimmed", map[string]string{"site": "a", " site": "b"}, "twice"},
		{"too many labels", many, "at most 32"},
		{"labels not an object", `{"labels":["site=x"]}`, ""},
	}
	for _, c := range bad {
		var body any = map[string]any{"labels": c.labels}
		if s, ok := c.labels.(string); ok {
			body = s
		}
		res := e.do("PATCH", "/api/v1/cameras/"+shibuya, w.tok["admin"], body)
		if res.Status != 400 || !strings.Contains(string(res.Raw), c.msg) {
			t.Errorf("%s: %d %.300s, want 400 mentioning %q", c.what, res.Status, res.Raw, c.msg)
		}
	}
	if got := labelsOf(shibuya); !reflect.DeepEqual(got, map[string]any{"site": "ebisu"}) {
		t.Errorf("refused PATCHes changed the labels: %v", got)
	}
	for _, q := range []string{"label=" + url.QueryEscape("=x"), "label=" + url.QueryEscape("site=a\x01"), strings.Repeat("label=a&", 9)} {
		if res := e.do("GET", "/api/v1/cameras?"+q, w.tok["viewer"], nil); res.Status != 400 {
			t.Errorf("filter %q: %d %s, want 400", q, res.Status, res.Raw)
		}
	}
}
