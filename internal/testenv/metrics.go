package testenv

import (
	"io"
	"net/http"
	"strconv"
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

// MetricSum is the sum of the values of every series of the metric name
// (all its label sets) in base's /metrics; 0 when it has none.
func MetricSum(t testing.TB, base, name string) float64 {
	t.Helper()
	var sum float64
	for _, l := range MetricLines(t, base, name) {
		series, value, ok := strings.Cut(l, " ")
		if !ok || (series != name && !strings.HasPrefix(series, name+"{")) {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", l, err)
		}
		sum += f
	}
	return sum
}
