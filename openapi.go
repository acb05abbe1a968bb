package camcloud

import _ "embed"

// OpenAPI is docs/openapi.yaml: the OpenAPI 3.1 document of every route,
// which api nodes serve as JSON at GET /api/v1/openapi.json and the UI
// renders as its API reference.
//
//go:embed docs/openapi.yaml
var OpenAPI []byte
