package api_test

import (
	"strings"
	"testing"
	"time"
)

// TestBookmarksAPI: operators add bookmarks (moments and ranges), viewers
// list and search them but may not add or delete, another organisation
// finds neither the camera's bookmarks nor a way to delete them, and bad
// input is refused with 400.
func TestBookmarksAPI(t *testing.T) {
	e := start(t)
	w := e.world()
	path := "/api/v1/cameras/" + w.camA + "/bookmarks"
	base := time.Now().Add(-time.Hour)
	at := func(d time.Duration) string { return base.Add(d).UTC().Format(time.RFC3339Nano) }
	b1 := e.must(e.do("POST", path, w.tok["operator"], map[string]any{"name": "Forklift tipped over", "note": "aisle 4\nno one hurt", "start": at(0)}), 201)
	e.must(e.do("POST", path, w.tok["admin"], map[string]any{"name": "Delivery", "start": at(time.Minute), "end": at(3 * time.Minute)}), 201)

	list := func(tok, q string) []string {
		t.Helper()
		r := e.must(e.do("GET", path+q, tok, nil), 200)
		var names []string
		for _, b := range r.Body["bookmarks"].([]any) {
			names = append(names, b.(map[string]any)["name"].(string))
		}
		return names
	}
	if got := strings.Join(list(w.tok["viewer"], ""), ","); got != "Forklift tipped over,Delivery" {
		t.Errorf("viewer's list %q", got)
	}
	if got := strings.Join(list(w.tok["viewer"], "?q=FORK"), ","); got != "Forklift tipped over" {
		t.Errorf("search %q", got)
	}
	if got := list(w.tok["viewer"], "?q=hurt"); len(got) != 1 {
		t.Errorf("search in notes: %q", got)
	}
	if got := list(w.tok["viewer"], "?from="+at(2*time.Minute)+"&to="+at(10*time.Minute)); len(got) != 1 || got[0] != "Delivery" {
		t.Errorf("range listing %q, want the ranged bookmark it falls in", got)
	}

	// Viewers may not write; another organisation finds nothing.
	if r := e.do("POST", path, w.tok["viewer"], map[string]any{"name": "x", "start": at(0)}); r.Status != 403 {
		t.Errorf("viewer's bookmark: %d, want 403", r.Status)
	}
	if r := e.do("DELETE", path+"/"+b1.str("id"), w.tok["viewer"], nil); r.Status != 403 {
		t.Errorf("viewer's delete: %d, want 403", r.Status)
	}
	for _, m := range []string{"GET", "POST"} {
		if r := e.do(m, path, w.tok["other"], map[string]any{"name": "x", "start": at(0)}); r.Status != 404 {
			t.Errorf("%s by another organisation: %d, want 404", m, r.Status)
		}
	}
	if r := e.do("DELETE", path+"/"+b1.str("id"), w.tok["other"], nil); r.Status != 404 {
		t.Errorf("delete by another organisation: %d, want 404", r.Status)
	}
	// Another organisation's own camera does not reach this one's bookmark.
	if r := e.do("DELETE", "/api/v1/cameras/"+w.camB+"/bookmarks/"+b1.str("id"), w.tok["other"], nil); r.Status != 404 {
		t.Errorf("delete through another camera: %d, want 404", r.Status)
	}

	for _, bad := range []map[string]any{
		{"name": "", "start": at(0)},
		{"name": strings.Repeat("n", 201), "start": at(0)},
		{"name": "bell\a", "start": at(0)},
		{"name": "x"},
		{"name": "x", "start": at(0), "end": at(0)},
		{"name": "x", "start": at(0), "end": at(32 * 24 * time.Hour)},
		{"name": "x", "start": at(0), "note": strings.Repeat("n", 4001)},
		{"name": "x", "start": time.Now().Add(48 * time.Hour).Format(time.RFC3339)},
	} {
		if r := e.do("POST", path, w.tok["operator"], bad); r.Status != 400 {
			t.Errorf("bookmark %.80v: %d %s, want 400", bad, r.Status, r.Raw)
		}
	}
	for _, q := range []string{"?q=" + strings.Repeat("q", 201), "?from=" + at(0) + "&to=" + at(-time.Second), "?limit=0", "?limit=1001"} {
		if r := e.do("GET", path+q, w.tok["viewer"], nil); r.Status != 400 {
			t.Errorf("list %.60s: %d, want 400", q, r.Status)
		}
	}

	e.must(e.do("DELETE", path+"/"+b1.str("id"), w.tok["operator"], nil), 204)
	if r := e.do("DELETE", path+"/"+b1.str("id"), w.tok["operator"], nil); r.Status != 404 {
		t.Errorf("second delete: %d, want 404", r.Status)
	}
	if got := list(w.tok["viewer"], ""); len(got) != 1 {
		t.Errorf("after delete %q", got)
	}
}
