package httpapi

import (
	"net/http/httptest"
	"testing"
)

// TestRequestBase: the scheme follows TLS or X-Forwarded-Proto; a public
// host replaces the request's host and keeps its port unless it names one.
func TestRequestBase(t *testing.T) {
	r := httptest.NewRequest("POST", "http://api.example:8080/x", nil)
	if got := RequestBase(r, ""); got != "http://api.example:8080" {
		t.Error(got)
	}
	if got := RequestBase(r, "cams.example"); got != "http://cams.example:8080" {
		t.Error(got)
	}
	r.Header.Set("X-Forwarded-Proto", "https")
	if got := RequestBase(r, "cams.example:443"); got != "https://cams.example:443" {
		t.Error(got)
	}
}
