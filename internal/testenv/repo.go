package testenv

import (
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/camcloud/camcloud/internal/sample"
)

// RepoFile is the path of rel (slash-separated, from the repository root),
// wherever the test runs from.
func RepoFile(rel string) string {
	_, f, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(f), "..", "..", filepath.FromSlash(rel))
}

var (
	samplesMu sync.Mutex
	samples   = map[string]*sample.Sample{}
)

// Sample loads testdata/name, once per test binary: tests share the
// loaded sample, which they must not modify.
func Sample(t testing.TB, name string) *sample.Sample {
	t.Helper()
	samplesMu.Lock()
	defer samplesMu.Unlock()
	if s := samples[name]; s != nil {
		return s
	}
	s, err := sample.Load(RepoFile("testdata/" + name))
	if err != nil {
		t.Fatalf("sample %s: %v", name, err)
	}
	samples[name] = s
	return s
}
