// Package apptest runs a whole camcloud process (all roles) inside a test,
// on 127.0.0.1 ports, so that the end-to-end tests of several packages start
// it the same way. It is imported by tests only.
package apptest

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/camcloud/camcloud/internal/app"
	"github.com/camcloud/camcloud/internal/config"
)

// The platform admin every Node creates at first start.
const (
	AdminEmail    = "admin@example.com"
	AdminPassword = "admin-password-1"
)

// Node is a running in-process camcloud serve.
type Node struct {
	App  *app.App
	Base string // http://127.0.0.1:PORT

	t      testing.TB
	cancel context.CancelFunc
	done   chan error
}

// Start runs camcloud serve with a fresh data dir, every listener on a free
// 127.0.0.1 port and RTSP over UDP off; args are flags that add to or
// override those. Logs go to stderr at warn level (debug when
// CAMCLOUD_TEST_LOG is set). The node is drained and closed at cleanup.
func Start(t testing.TB, args ...string) *Node {
	t.Helper()
	all := append([]string{"--data-dir", t.TempDir(), "--http", "127.0.0.1:0", "--rtsp", "127.0.0.1:0",
		"--rtmp", "127.0.0.1:0", "--rtsp-udp", ""}, args...)
	cfg, err := config.Load("serve", all, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	level := slog.LevelWarn
	if os.Getenv("CAMCLOUD_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	vars := map[string]string{"CAMCLOUD_ADMIN_EMAIL": AdminEmail, "CAMCLOUD_ADMIN_PASSWORD": AdminPassword}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, log, app.Options{Out: io.Discard, Env: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		cancel()
		a.Close()
		t.Fatal(err)
	}
	n := &Node{App: a, Base: "http://" + a.HTTPAddr(), t: t, cancel: cancel, done: make(chan error, 1)}
	go func() { n.done <- a.Serve(ctx) }()
	t.Cleanup(func() { n.Stop(); a.Close() })
	return n
}

// Stop drains the node (its spool is uploaded) and stops serving; its
// databases stay open for the test to read until cleanup.
func (n *Node) Stop() {
	if n.cancel == nil {
		return
	}
	n.cancel()
	if err := <-n.done; err != nil {
		n.t.Errorf("serve: %v", err)
	}
	n.cancel = nil
}
