package api_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// openAPIDoc is the part of the OpenAPI document the tests read.
type openAPIDoc struct {
	OpenAPI    string                           `json:"openapi"`
	Paths      map[string]map[string]openAPIOp  `json:"paths"`
	Components struct{ Schemas map[string]any } `json:"components"`
}

// openAPIOp is one operation.
type openAPIOp struct {
	Route       string `json:"x-camcloud-route"`
	Try         int    `json:"x-camcloud-try"`
	Summary     string `json:"summary"`
	RequestBody *struct {
		Content map[string]struct {
			Schema  any `json:"schema"`
			Example any `json:"example"`
		} `json:"content"`
	} `json:"requestBody"`
	Responses map[string]struct {
		Content map[string]struct {
			Schema any `json:"schema"`
		} `json:"content"`
	} `json:"responses"`
}

// fetchOpenAPI reads the document the server serves.
func fetchOpenAPI(t *testing.T, e *env) openAPIDoc {
	t.Helper()
	r := e.must(e.do("GET", "/api/v1/openapi.json", "", nil), 200)
	var doc openAPIDoc
	if err := json.Unmarshal(r.Raw, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	return doc
}

// TestOpenAPIRoutes: every route a node with all roles registers is an
// operation of the document served at /api/v1/openapi.json (named by its
// x-camcloud-route, at the path and method the route takes), and every
// operation names a registered route, once.
func TestOpenAPIRoutes(t *testing.T) {
	e := start(t)
	doc := fetchOpenAPI(t, e)
	documented := map[string]string{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			where := strings.ToUpper(method) + " " + path
			if op.Route == "" || op.Summary == "" {
				t.Errorf("%s has no x-camcloud-route or summary", where)
				continue
			}
			if prev, dup := documented[op.Route]; dup {
				t.Errorf("route %q documented twice: %s and %s", op.Route, prev, where)
			}
			documented[op.Route] = where
			m, p, ok := strings.Cut(op.Route, " ")
			if !ok { // a pattern without a method: documented as GET
				m, p = "GET", op.Route
			}
			if strings.ReplaceAll(p, "...}", "}") != path || m != strings.ToUpper(method) {
				t.Errorf("%s documents route %q, which is at another path or method", where, op.Route)
			}
			if _, ok := op.Responses["default"]; !ok {
				t.Errorf("%s documents no error answer (default)", where)
			}
		}
	}
	registered := map[string]bool{}
	for _, rt := range e.app.HTTP.Routes() {
		registered[rt.Pattern] = true
		if _, ok := documented[rt.Pattern]; !ok {
			t.Errorf("route %q is registered but not in docs/openapi.yaml (add an operation with x-camcloud-route: %q)", rt.Pattern, rt.Pattern)
		}
	}
	for r, where := range documented {
		if !registered[r] {
			t.Errorf("docs/openapi.yaml documents %q (%s), which no package registers", r, where)
		}
	}
}

// TestOpenAPIExamples sends the document's examples (operations with
// x-camcloud-try, in that order) to a running server: each example body
// must fit its request schema, and the answer must have the status the
// document gives as the success and a body that fits its schema. {org} and
// {id} stand for the organisation and camera the examples created.
func TestOpenAPIExamples(t *testing.T) {
	e := start(t)
	doc := fetchOpenAPI(t, e)
	type try struct {
		method, path string
		op           openAPIOp
	}
	var tries []try
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if op.Try > 0 {
				tries = append(tries, try{strings.ToUpper(method), path, op})
			}
		}
	}
	sort.Slice(tries, func(i, j int) bool { return tries[i].op.Try < tries[j].op.Try })
	if len(tries) < 10 {
		t.Fatalf("only %d operations with examples", len(tries))
	}
	v := validator{schemas: doc.Components.Schemas}
	vars := map[string]string{}
	token := ""
	subst := func(s string) string {
		for k, x := range vars {
			s = strings.ReplaceAll(s, "{"+k+"}", x)
		}
		return s
	}
	for _, tr := range tries {
		name := tr.method + " " + tr.path
		var body any
		if tr.op.RequestBody != nil {
			c := tr.op.RequestBody.Content["application/json"]
			if c.Example == nil {
				t.Fatalf("%s: a request body but no example", name)
			}
			if err := v.check(c.Schema, c.Example, "body"); err != nil {
				t.Fatalf("%s: the example does not fit its schema: %v", name, err)
			}
			raw, _ := json.Marshal(c.Example)
			body = subst(string(raw))
		}
		path := subst(tr.path)
		if strings.Contains(path, "{") {
			t.Fatalf("%s: no value for a parameter of %s (known: %v)", name, path, vars)
		}
		res := e.do(tr.method, path, token, body)
		var ok string
		for code := range tr.op.Responses {
			if strings.HasPrefix(code, "2") {
				ok = code
			}
		}
		if fmt.Sprint(res.Status) != ok {
			t.Fatalf("%s: %d %.300s, the document says %s", name, res.Status, res.Raw, ok)
		}
		if c, has := tr.op.Responses[ok].Content["application/json"]; has {
			var got any
			if err := json.Unmarshal(res.Raw, &got); err != nil {
				t.Fatalf("%s: the answer is not JSON: %.200s", name, res.Raw)
			}
			if err := v.check(c.Schema, got, "answer"); err != nil {
				t.Fatalf("%s: the answer does not fit the documented schema: %v\n%.500s", name, err, res.Raw)
			}
		}
		switch name { // what later examples refer to
		case "POST /api/v1/auth/login":
			token = res.str("token")
		case "POST /api/v1/orgs":
			vars["org"] = res.str("id")
		case "POST /api/v1/cameras":
			vars["id"] = res.str("id")
		}
	}
}

// validator checks a JSON value against the JSON Schema subset the
// document uses: $ref to components, type, required, properties, items,
// (one or several), enum, pattern, minLength and maxLength, minimum and maximum, and the
// date-time format.
type validator struct{ schemas map[string]any }

func (v validator) check(schema, val any, at string) error {
	s, _ := schema.(map[string]any)
	if ref, ok := s["$ref"].(string); ok {
		name, found := strings.CutPrefix(ref, "#/components/schemas/")
		target, ok := v.schemas[name]
		if !found || !ok {
			return fmt.Errorf("%s: unknown $ref %q", at, ref)
		}
		return v.check(target, val, at)
	}
	switch want := s["type"].(type) {
	case string:
		if !hasType(val, want) {
			return fmt.Errorf("%s: %T %v is not %s", at, val, val, want)
		}
	case []any: // 3.1: one of several types, e.g. [array, "null"]
		ok := false
		for _, w := range want {
			ok = ok || hasType(val, fmt.Sprint(w))
		}
		if !ok {
			return fmt.Errorf("%s: %T %v is none of %v", at, val, val, want)
		}
	}
	if enum, ok := s["enum"].([]any); ok {
		found := false
		for _, x := range enum {
			found = found || x == val
		}
		if !found {
			return fmt.Errorf("%s: %v is not one of %v", at, val, enum)
		}
	}
	switch x := val.(type) {
	case string:
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(x) {
			return fmt.Errorf("%s: %q does not match %s", at, x, p)
		}
		if n, ok := s["maxLength"].(float64); ok && float64(len([]rune(x))) > n {
			return fmt.Errorf("%s: longer than %v", at, n)
		}
		if n, ok := s["minLength"].(float64); ok && float64(len([]rune(x))) < n {
			return fmt.Errorf("%s: shorter than %v", at, n)
		}
		if s["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, x); err != nil {
				return fmt.Errorf("%s: %q is not a date-time", at, x)
			}
		}
	case float64:
		if n, ok := s["minimum"].(float64); ok && x < n {
			return fmt.Errorf("%s: %v below %v", at, x, n)
		}
		if n, ok := s["maximum"].(float64); ok && x > n {
			return fmt.Errorf("%s: %v above %v", at, x, n)
		}
	case map[string]any:
		req, _ := s["required"].([]any)
		for _, r := range req {
			if _, ok := x[r.(string)]; !ok {
				return fmt.Errorf("%s: %q is missing", at, r)
			}
		}
		props, _ := s["properties"].(map[string]any)
		for k, sub := range props {
			if e, ok := x[k]; ok {
				if err := v.check(sub, e, at+"."+k); err != nil {
					return err
				}
			}
		}
	case []any:
		if items, ok := s["items"]; ok {
			for i, e := range x {
				if err := v.check(items, e, fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// hasType reports whether a decoded JSON value is of a JSON Schema type.
func hasType(val any, typ string) bool {
	switch x := val.(type) {
	case string:
		return typ == "string"
	case bool:
		return typ == "boolean"
	case float64:
		return typ == "number" || typ == "integer" && x == float64(int64(x))
	case map[string]any:
		return typ == "object"
	case []any:
		return typ == "array"
	case nil:
		return typ == "null"
	}
	return false
}
