package cameras_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/cameras"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestUpdateKeepsRotation: an update made from a camera read before a key
// rotation (a PATCH whose body came late) keeps the rotation, and says what
// it changed, on SQLite and MariaDB.
func TestUpdateKeepsRotation(t *testing.T) {
	engines := map[string]func(t *testing.T) string{
		"sqlite": func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "dir.db") },
		"mysql":  func(t *testing.T) string { return testenv.MySQLDatabases(t, "cameras")[0] },
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
			c := store.Camera{ID: "c", OrgID: "o", Name: "cam", Zone: "z", SourceType: "push", RetentionDays: 30, Recording: "continuous", CreatedAt: time.Now()}
			if err := dir.CreateCamera(ctx, c); err != nil {
				t.Fatal(err)
			}
			s := cameras.New(dir, nil, nil)
			stale, err := s.Get(ctx, "c")
			if err != nil {
				t.Fatal(err)
			}
			_, secret, err := s.RotateKey(ctx, stale)
			if err != nil {
				t.Fatal(err)
			}
			off, one := "off", 1
			got, changed, newSecret, err := s.Update(ctx, stale, cameras.Spec{Recording: &off, RetentionDays: &one})
			if err != nil {
				t.Fatal(err)
			}
			if newSecret != "" {
				t.Fatal("an update that keeps a push camera push handed out a new secret")
			}
			if got.Recording != "off" || got.RetentionDays != 1 {
				t.Fatalf("update not applied: %+v", got)
			}
			if err := s.AuthorizePublish(ctx, "c", secret); err != cameras.ErrRecordingOff {
				t.Fatalf("after the update the rotated secret gives %v, want ErrRecordingOff (secret accepted, recording off)", err)
			}
			if want := `retention_days: 30 -> 1; recording: "continuous" -> "off"`; changed.String() != want {
				t.Fatalf("changes %q, want %q", changed, want)
			}
		})
	}
}
