package cameras_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/cameras"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestPullBecomesPush: a pull camera switched to push gets a new ingest
// secret in the same write (the one made at its creation stops working),
// on SQLite and MariaDB; an update that leaves a camera push, or turns it
// into a pull camera, hands out none.
func TestPullBecomesPush(t *testing.T) {
	engines := map[string]func(t *testing.T) string{
		"sqlite": func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "dir.db") },
		"mysql":  func(t *testing.T) string { return testenv.MySQLDatabases(t, "camswitch")[0] },
	}
	for name, dsn := range engines {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			dir, err := store.OpenDirectory(ctx, dsn(t), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer dir.Close()
			if err := dir.CreateOrg(ctx, store.Org{ID: "o", Name: "o", CreatedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
			const created = "secret-made-at-creation"
			c := store.Camera{ID: "c", OrgID: "o", Name: "cam", Zone: "z", SourceType: "pull", SourceURL: "rtsp://203.0.113.5/s",
				IngestSecretHash: auth.HashToken(created), RetentionDays: 30, Recording: "continuous", CreatedAt: time.Now()}
			if err := dir.CreateCamera(ctx, c); err != nil {
				t.Fatal(err)
			}
			s := cameras.New(dir, nil, nil)
			name := "renamed"
			if _, _, secret, err := s.Update(ctx, c, cameras.Spec{Name: &name}); err != nil || secret != "" {
				t.Fatalf("rename of a pull camera: secret %q, err %v; want none", secret, err)
			}
			got, changed, secret, err := s.Update(ctx, c, cameras.Spec{Source: &cameras.Source{Type: "push"}})
			if err != nil {
				t.Fatal(err)
			}
			if secret == "" || got.SourceType != "push" {
				t.Fatalf("pull -> push: secret %q, source %q; want a new secret and push", secret, got.SourceType)
			}
			if err := s.AuthorizePublish(ctx, "c", secret); err != nil {
				t.Fatalf("the new secret is refused: %v", err)
			}
			if err := s.AuthorizePublish(ctx, "c", created); !errors.Is(err, cameras.ErrWrongSecret) {
				t.Fatalf("the secret made at creation gives %v, want ErrWrongSecret", err)
			}
			if want := `source.type: "pull" -> "push"; source.url: "rtsp://203.0.113.5/s" -> ""`; changed.String() != want {
				t.Fatalf("changes %q, want %q", changed, want)
			}
			if _, _, again, err := s.Update(ctx, got, cameras.Spec{Source: &cameras.Source{Type: "push"}}); err != nil || again != "" {
				t.Fatalf("push -> push: secret %q, err %v; want none", again, err)
			}
			if err := s.AuthorizePublish(ctx, "c", secret); err != nil {
				t.Fatalf("push -> push replaced the secret: %v", err)
			}
			if _, _, back, err := s.Update(ctx, got, cameras.Spec{Source: &cameras.Source{Type: "pull", URL: "rtsp://203.0.113.6/s"}}); err != nil || back != "" {
				t.Fatalf("push -> pull: secret %q, err %v; want none", back, err)
			}
		})
	}
}
