package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(file, []byte("http: \":9000\"\nrtsp: \":9554\"\nrtmp: \":9935\"\nsegment_duration: 30s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		env  map[string]string
		http string
		rtsp string
		seg  time.Duration
	}{
		{"defaults", []string{"--data-dir", dir}, nil, ":8080", ":8554", time.Minute},
		{"file", []string{"--data-dir", dir, "--config", file}, nil, ":9000", ":9554", 30 * time.Second},
		{"env over file", []string{"--data-dir", dir}, map[string]string{"CAMCLOUD_CONFIG": file, "CAMCLOUD_HTTP": ":7000"}, ":7000", ":9554", 30 * time.Second},
		{"flag over env", []string{"--data-dir", dir, "--http", ":6000"}, map[string]string{"CAMCLOUD_HTTP": ":7000"}, ":6000", ":8554", time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load("serve", tc.args, envOf(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if c.HTTP != tc.http || c.RTSP != tc.rtsp || c.SegmentDuration != tc.seg {
				t.Fatalf("got http=%s rtsp=%s seg=%s", c.HTTP, c.RTSP, c.SegmentDuration)
			}
			if len(c.Zones) != 1 || c.Zones[0].Name != "local" || !strings.HasPrefix(c.Directory, "sqlite:") {
				t.Fatalf("default zone/directory not set: %+v %s", c.Zones, c.Directory)
			}
		})
	}
}

func TestBadValues(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("htp: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"unknown yaml key", []string{"--config", bad}, nil, "htp"},
		{"bad role", []string{"--role", "boss"}, nil, "role"},
		{"bad env duration", nil, map[string]string{"CAMCLOUD_SEGMENT_DURATION": "soon"}, "CAMCLOUD_SEGMENT_DURATION"},
		{"session too long", []string{"--session-ttl", "24h"}, nil, "session_ttl"},
		{"bad address", []string{"--http", "nonsense"}, nil, "http address"},
		{"unknown zone", []string{"--zone", "mars"}, nil, "zone"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("serve", append([]string{"--data-dir", dir}, tc.args...), envOf(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want error mentioning %q, got %v", tc.want, err)
			}
		})
	}
}
