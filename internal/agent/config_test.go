package agent_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/agent"
)

// TestConfigBackfill reads agent.yaml files as an operator writes them:
// the backfill settings get their defaults, and a wrong one fails the
// start with an error that names the setting.
func TestConfigBackfill(t *testing.T) {
	load := func(extra string) (agent.Config, error) {
		y := "cloud: https://video.example.com\ndata_dir: data\n" + extra
		path := filepath.Join(t.TempDir(), "agent.yaml")
		if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
		return agent.LoadConfig(path)
	}
	c, err := load("")
	if err != nil {
		t.Fatal(err)
	}
	if b := c.Backfill; b.RateBPS != agent.DefaultBackfillBPS || b.Order != "" || b.Schedule != "" || b.Interval <= 0 || b.Settle <= 0 {
		t.Errorf("defaults: %+v", b)
	}
	c, err = load("backfill:\n  order: newest\n  rate_bps: 40000000\n  schedule: \"22:00-06:00\"\n  interval: 10s\n  settle: 90s\n")
	if err != nil {
		t.Fatal(err)
	}
	if b := c.Backfill; b.RateBPS != 40_000_000 || b.Order != "newest" || b.Schedule != "22:00-06:00" || b.Interval.Seconds() != 10 || b.Settle.Seconds() != 90 {
		t.Errorf("read back: %+v", b)
	}
	for _, bad := range []struct{ yaml, want string }{
		{"backfill:\n  order: random\n", "backfill.order"},
		{"backfill:\n  schedule: \"22:00\"\n", "backfill.schedule"},
		{"backfill:\n  schedule: \"22:00-22:00\"\n", "backfill.schedule"},
		{"backfill:\n  rate_bps: 1000\n", "backfill.rate_bps"},
		{"backfill:\n  rate_bps: -5\n", "backfill.rate_bps"},
		{"backfill:\n  interval: -1s\n", "backfill.interval"},
		{"backfill:\n  settle: 48h\n", "backfill.settle"},
		{"backfill:\n  rate: 5\n", "field rate not found"},
	} {
		if _, err := load(bad.yaml); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: error %v, want one naming %s", bad.yaml, err, bad.want)
		}
	}
}

// TestConfigRuntime reads the garbage collector and read batching
// settings: their defaults, values read back, and refused ones.
func TestConfigRuntime(t *testing.T) {
	load := func(extra string) (agent.Config, error) {
		path := filepath.Join(t.TempDir(), "agent.yaml")
		if err := os.WriteFile(path, []byte("cloud: https://video.example.com\ndata_dir: data\n"+extra), 0o600); err != nil {
			t.Fatal(err)
		}
		return agent.LoadConfig(path)
	}
	c, err := load("")
	if err != nil {
		t.Fatal(err)
	}
	if c.GCPercent != agent.DefaultGCPercent || c.MemoryLimit != 0 || c.ReadBatch != agent.DefaultReadBatch || c.CommitInterval != agent.DefaultCommitInterval {
		t.Errorf("defaults: gc_percent %d, memory_limit_bytes %d, read_batch %s, commit_interval %s", c.GCPercent, c.MemoryLimit, c.ReadBatch, c.CommitInterval)
	}
	c, err = load("gc_percent: -1\nmemory_limit_bytes: 33554432\nread_batch: 20ms\ncommit_interval: 250ms\n")
	if err != nil {
		t.Fatal(err)
	}
	if c.GCPercent != -1 || c.MemoryLimit != 32<<20 || c.ReadBatch != 20*time.Millisecond || c.CommitInterval != 250*time.Millisecond {
		t.Errorf("read back: gc_percent %d, memory_limit_bytes %d, read_batch %s, commit_interval %s", c.GCPercent, c.MemoryLimit, c.ReadBatch, c.CommitInterval)
	}
	for _, bad := range []struct{ yaml, want string }{
		{"gc_percent: -5\n", "gc_percent"},
		{"gc_percent: -1\n", "gc_percent"},
		{"memory_limit_bytes: 1000\n", "memory_limit_bytes"},
		{"read_batch: 2s\n", "read_batch"},
		{"read_batch: -1s\n", "read_batch"},
		{"commit_interval: 6s\n", "commit_interval"},
		{"commit_interval: -1ms\n", "commit_interval"},
	} {
		if _, err := load(bad.yaml); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: error %v, want one naming %s", bad.yaml, err, bad.want)
		}
	}
}
