package testenv

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// MetricLines reads base's /metrics and returns its lines that start
// with prefix (every line for ""), failing the test when it cannot.
func MetricLines(t testing.TB, base, prefix string) []string {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}
