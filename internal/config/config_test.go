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
	if err := os.WriteFile(file, []byte("http: \":9000\"\nrtsp: \":9554\"\nrtmp: \":9935\"\nsegment_duration: 30s\npull_allow: [\"10.0.0.0/8\", \"192.168.1.0/24\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		env  map[string]string
		http string
		rtsp string
		seg  time.Duration
		// allow is pull_allow joined: a list the env or a flag replaces.
		allow string
	}{
		{"defaults", []string{"--data-dir", dir}, nil, ":8080", ":8554", time.Minute, ""},
		{"file", []string{"--data-dir", dir, "--config", file}, nil, ":9000", ":9554", 30 * time.Second, "10.0.0.0/8,192.168.1.0/24"},
		{"env over file", []string{"--data-dir", dir}, map[string]string{"CAMCLOUD_CONFIG": file, "CAMCLOUD_HTTP": ":7000", "CAMCLOUD_PULL_ALLOW": "172.16.0.0/12, fd00::/8"}, ":7000", ":9554", 30 * time.Second, "172.16.0.0/12,fd00::/8"},
		{"flag over env", []string{"--data-dir", dir, "--http", ":6000", "--pull-allow", "127.0.0.0/8"}, map[string]string{"CAMCLOUD_HTTP": ":7000", "CAMCLOUD_PULL_ALLOW": "10.0.0.0/8"}, ":6000", ":8554", time.Minute, "127.0.0.0/8"},
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
			if got := strings.Join(c.PullAllow, ","); got != tc.allow {
				t.Fatalf("pull_allow = %q, want %q", got, tc.allow)
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
		{"bad role", []string{"--role", "boss"}, nil, `unknown role "boss": the roles are all, api and camera-server`},
		{"bad log level", []string{"--log-level", "verbose"}, nil, `unknown log_level "verbose"`},
		{"bad env duration", nil, map[string]string{"CAMCLOUD_SEGMENT_DURATION": "soon"}, "CAMCLOUD_SEGMENT_DURATION"},
		{"session too long", []string{"--session-ttl", "24h"}, nil, "session_ttl"},
		{"bad address", []string{"--http", "nonsense"}, nil, "http address"},
		{"unknown zone", []string{"--zone", "mars"}, nil, "zone"},
		{"bad pull_allow", []string{"--pull-allow", "10.0.0.0/8,intranet"}, nil, "pull_allow"},
		{"short audit key", []string{"--audit-key", "short"}, nil, "audit_key"},
		{"checkpoint interval", []string{"--audit-checkpoint-interval", "10ms"}, nil, "audit_checkpoint_interval"},
		{"negative connection cap", []string{"--http-max-conns-per-ip", "-1"}, nil, "http_max_conns"},
		{"bad https", []string{"--https", "yes"}, nil, "https"},
		{"camera health series unbounded", []string{"--metrics-camera-health", "5000"}, nil, "metrics_camera_health 5000 must be in [0, 1000]"},
		{"webrtc_udp without a port", []string{"--webrtc-udp", "127.0.0.1"}, nil, `webrtc_udp "127.0.0.1"`},
		{"short totp key", nil, map[string]string{"CAMCLOUD_TOTP_KEY": "short"}, "totp_key"},
		{"offline debounce too short", []string{"--offline-debounce", "100ms"}, nil, "offline_debounce"},
		{"offline debounce too long", nil, map[string]string{"CAMCLOUD_OFFLINE_DEBOUNCE": "1h"}, "offline_debounce"},
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

// TestSplitRoles: a process that runs only some roles must be told where
// the shared databases are and share the media key; zone ingest addresses
// and server ids are checked.
func TestSplitRoles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	key := strings.Repeat("k", 32)
	good := write("good.yaml", "directory: \"sqlite:/tmp/d.db\"\nmedia_key: \""+key+"\"\nzones:\n  - name: a\n    db: \"sqlite:/tmp/a.db\"\n    ingest: {rtsp: \"lb-a.example.net:8554\", rtmp: \"lb-a.example.net:1935\"}\n")
	noKey := write("nokey.yaml", "directory: \"sqlite:/tmp/d.db\"\nzones:\n  - name: a\n")
	badIngest := write("badingest.yaml", "zones:\n  - name: a\n    ingest: {rtsp: \"lb-a\"}\n")
	twice := write("twice.yaml", "zones:\n  - name: a\n  - name: a\n")
	cases := []struct {
		name string
		args []string
		want string // "" = no error
	}{
		{"api with everything", []string{"--config", good, "--role", "api"}, ""},
		{"camera server with everything", []string{"--config", good, "--role", "camera-server", "--zone", "a", "--server-id", "cs-1.a"}, ""},
		{"api without directory", []string{"--role", "api"}, "directory and zones"},
		{"api without media key", []string{"--config", noKey, "--role", "api"}, "media_key"},
		{"short media key", []string{"--config", good, "--zone", "a", "--media-key", "short"}, "media_key"},
		{"ingest without port", []string{"--config", badIngest}, "ingest rtsp"},
		{"zone twice", []string{"--config", twice, "--zone", "a"}, "twice"},
		{"bad server id", []string{"--config", good, "--role", "camera-server", "--zone", "a", "--server-id", "a b"}, "server_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load("serve", append([]string{"--data-dir", dir}, tc.args...), envOf(nil))
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if z, _ := c.ZoneByName("a"); z.Ingest.RTSP != "lb-a.example.net:8554" {
					t.Fatalf("zone ingest not read: %+v", z)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want error mentioning %q, got %v", tc.want, err)
			}
		})
	}
}

// TestOfflineDebounce: 5 s by default, set by flag or YAML.
func TestOfflineDebounce(t *testing.T) {
	dir := t.TempDir()
	c, err := Load("serve", []string{"--data-dir", dir}, envOf(nil))
	if err != nil || c.OfflineDebounce != 5*time.Second {
		t.Fatalf("default %s (%v)", c.OfflineDebounce, err)
	}
	file := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(file, []byte("offline_debounce: 8s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err = Load("serve", []string{"--data-dir", dir, "--config", file}, envOf(nil)); err != nil || c.OfflineDebounce != 8*time.Second {
		t.Fatalf("yaml %s (%v)", c.OfflineDebounce, err)
	}
	if c, err = Load("serve", []string{"--data-dir", dir, "--config", file, "--offline-debounce", "3s"}, envOf(nil)); err != nil || c.OfflineDebounce != 3*time.Second {
		t.Fatalf("flag %s (%v)", c.OfflineDebounce, err)
	}
}

// TestMotionFlag: motion detection is on by default, off by flag or
// environment.
func TestMotionFlag(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want bool
	}{
		{[]string{"--data-dir", dir}, nil, true},
		{[]string{"--data-dir", dir, "--motion=false"}, nil, false},
		{[]string{"--data-dir", dir}, map[string]string{"CAMCLOUD_MOTION": "false"}, false},
	} {
		c, err := Load("serve", tc.args, envOf(tc.env))
		if err != nil {
			t.Fatal(err)
		}
		if c.Motion != tc.want {
			t.Errorf("%v %v: motion %v, want %v", tc.args, tc.env, c.Motion, tc.want)
		}
	}
}
