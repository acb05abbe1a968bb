package api

import (
	"encoding/json"
	"fmt"
	"net/http"

	"go.yaml.in/yaml/v3"

	"github.com/camcloud/camcloud/internal/httpapi"
)

// OpenAPIJSON converts the YAML OpenAPI document to JSON. Every mapping
// key must be a string (quote response codes: '200'), as in JSON.
func OpenAPIJSON(doc []byte) ([]byte, error) {
	var v any
	if err := yaml.Unmarshal(doc, &v); err != nil {
		return nil, fmt.Errorf("openapi document: %w", err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("openapi document (are all keys strings? quote response codes): %w", err)
	}
	return b, nil
}

// registerOpenAPI serves the document, converted once, at GET
// /api/v1/openapi.json; public, like the UI that renders it. A document
// that does not convert answers 500 (a build mistake the tests catch).
func (s *server) registerOpenAPI(rt *httpapi.Router) {
	body, err := OpenAPIJSON(s.OpenAPI)
	rt.HandlePublic("GET /api/v1/openapi.json", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err != nil || len(s.OpenAPI) == 0 {
			httpapi.Fail(w, r, fmt.Errorf("no OpenAPI document: %v", err))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(body)
	}))
}
