package testenv

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// APICall sends body as JSON to base+path with a bearer token (when not
// empty), fails the test on a transport error or a status of 300 or more,
// and decodes the answer into out (when not nil).
func APICall(t testing.TB, base, token, method, path string, body, out any) {
	t.Helper()
	b, _ := json.Marshal(body)
	status, raw := apiDo(t, base, token, method, path, bytes.NewReader(b))
	if status >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, status, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatal(err)
		}
	}
}

// APIStatus is APICall for tests that check the status themselves: it
// sends body as JSON (no body when nil), returns the status, and decodes
// a non-empty answer into out (when not nil), failing the test when that
// answer is not JSON.
func APIStatus(t testing.TB, base, token, method, path string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	status, raw := apiDo(t, base, token, method, path, rd)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %d %s", method, path, status, raw)
		}
	}
	return status
}

// apiDo sends one request and returns the status and the answer.
func apiDo(t testing.TB, base, token, method, path string, body io.Reader) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, raw
}

// APITry sends body as JSON, as APIStatus does, for goroutines that may
// not fail the test: it returns the status, or the transport error.
func APITry(base, token, method, path string, body any) (int, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(method, base+path, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, nil
}
