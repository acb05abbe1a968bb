package app

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/camcloud/camcloud/internal/config"
)

// TestStartOrder: a process whose HTTP port is taken fails before it
// creates the platform admin, so the one-time password is not printed and
// lost; once it can bind, it prints the admin's password, the UI's URL and,
// with --demo, which account sees the demo cameras.
func TestStartOrder(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := t.TempDir()
	load := func(http string) config.Config {
		cfg, err := config.Load("serve", []string{"--data-dir", dir, "--http", http, "--rtsp", "127.0.0.1:0", "--rtmp", "127.0.0.1:0", "--rtsp-udp", "", "--demo"},
			func(string) (string, bool) { return "", false })
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	start := func(cfg config.Config) (string, error) {
		var out bytes.Buffer
		a, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler), Options{Out: &out, Env: func(string) (string, bool) { return "", false }})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		err = a.Start(ctx)
		if err == nil {
			if n, cerr := a.Dir.CountUsers(ctx); cerr != nil || n != 2 {
				t.Errorf("users after start: %d, %v; want the admin and the demo user", n, cerr)
			}
		}
		return out.String(), err
	}
	out, err := start(load(taken.Addr().String()))
	if err == nil || !strings.Contains(err.Error(), "http listen") {
		t.Fatalf("start on a taken port: %v", err)
	}
	if strings.Contains(out, "password") {
		t.Fatalf("a process that could not bind printed a password: %q", out)
	}
	out, err = start(load("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"created platform admin admin@camcloud.local with password ", "the UI is at http://127.0.0.1:", "log in as demo@camcloud.local"} {
		if !strings.Contains(out, want) {
			t.Errorf("start printed %q, want it to say %q", out, want)
		}
	}
}

func TestUIURL(t *testing.T) {
	for in, want := range map[string]string{
		"0.0.0.0:8080":   "http://localhost:8080/",
		"[::]:8080":      "http://localhost:8080/",
		"127.0.0.1:8080": "http://127.0.0.1:8080/",
		"10.1.2.3:80":    "http://10.1.2.3:80/",
	} {
		if got := uiURL(in); got != want {
			t.Errorf("uiURL(%q) = %q, want %q", in, got, want)
		}
	}
}
