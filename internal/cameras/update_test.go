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
			dir, _ := oneCamera(t, dsn(t))
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

// TestUpdateMotion: the motion setting is set, bounded and said in the
// changes; a camera without one has detection on at the default.
func TestUpdateMotion(t *testing.T) {
	ctx := context.Background()
	dir, c := oneCamera(t, "sqlite:"+filepath.Join(t.TempDir(), "dir.db"))
	if on, sens := cameras.MotionOf(c); !on || sens != cameras.DefaultMotionSensitivity {
		t.Fatalf("default motion %v %d", on, sens)
	}
	s := cameras.New(dir, nil, nil)
	off, eight := false, 8
	got, changed, _, err := s.Update(ctx, c, cameras.Spec{Motion: &cameras.Motion{Enabled: &off, Sensitivity: &eight}})
	if err != nil {
		t.Fatal(err)
	}
	if on, sens := cameras.MotionOf(got); on || sens != 8 {
		t.Fatalf("after the update: %v %d", on, sens)
	}
	if want := "motion.enabled: true -> false; motion.sensitivity: 5 -> 8"; changed.String() != want {
		t.Fatalf("changes %q, want %q", changed, want)
	}
	for _, bad := range []int{0, 11, -5, 1 << 40} {
		_, _, _, err := s.Update(ctx, c, cameras.Spec{Motion: &cameras.Motion{Sensitivity: &bad}})
		if _, ok := err.(*cameras.ValidationError); !ok {
			t.Errorf("sensitivity %d: %v, want a validation error", bad, err)
		}
	}
}

// oneCamera opens the directory at dsn (closed at cleanup) with one
// organisation "o" and its push camera "c".
func oneCamera(t *testing.T, dsn string) (store.Directory, store.Camera) {
	t.Helper()
	ctx := context.Background()
	dir, err := store.OpenDirectory(ctx, dsn, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	if err := dir.CreateOrg(ctx, store.Org{ID: "o", Name: "o", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	c := store.Camera{ID: "c", OrgID: "o", Name: "cam", Zone: "z", SourceType: "push", RetentionDays: 30, Recording: "continuous", CreatedAt: time.Now()}
	if err := dir.CreateCamera(ctx, c); err != nil {
		t.Fatal(err)
	}
	return dir, c
}
