package cameras_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/cameras"
	"github.com/camcloud/camcloud/internal/store"
)

// TestAccess: a camera is found for members of its organisation with the
// permissions of their role, not found for others; listing keeps what the
// caller may view; grants go only to members and round-trip.
func TestAccess(t *testing.T) {
	ctx := context.Background()
	dir, err := store.OpenDirectory(ctx, "sqlite:"+filepath.Join(t.TempDir(), "dir.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	for _, id := range []string{"o1", "o2"} {
		if err := dir.CreateOrg(ctx, store.Org{ID: id, Name: id, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []string{"viewer", "admin", "outsider"} {
		if err := dir.CreateUser(ctx, store.User{ID: u, Email: u + "@example.com", CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	for u, role := range map[string]string{"viewer": store.RoleViewer, "admin": store.RoleAdmin} {
		if err := dir.PutMembership(ctx, store.Membership{OrgID: "o1", UserID: u, Role: role}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []store.Camera{{ID: "c1", OrgID: "o1"}, {ID: "c2", OrgID: "o2"}} {
		c.Name, c.Zone, c.SourceType, c.RetentionDays, c.Recording, c.CreatedAt = c.ID, "z", "push", 1, "continuous", time.Now()
		if err := dir.CreateCamera(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	s := cameras.New(dir, nil, nil)
	p := map[string]*authz.Principal{
		"viewer":   {UserID: "viewer", Roles: map[string]string{"o1": store.RoleViewer}},
		"admin":    {UserID: "admin", Roles: map[string]string{"o1": store.RoleAdmin}},
		"outsider": {UserID: "outsider", Roles: map[string]string{"o2": store.RoleOwner}},
	}
	cases := []struct {
		who, cam, perm string
		want           error
	}{
		{"viewer", "c1", authz.PermView, nil},
		{"viewer", "c1", authz.PermManage, authz.ErrForbidden},
		{"admin", "c1", authz.PermManage, nil},
		{"outsider", "c1", authz.PermView, authz.ErrNotFound},
		{"viewer", "missing", authz.PermView, store.ErrNotFound},
	}
	for _, c := range cases {
		if _, err := s.ForPrincipal(ctx, p[c.who], c.cam, c.perm); !errors.Is(err, c.want) {
			t.Errorf("%s %s %s: %v, want %v", c.who, c.cam, c.perm, err, c.want)
		}
	}
	cams, status, err := s.List(ctx, p["viewer"], []string{"o1", "o2"})
	if err != nil || len(cams) != 1 || cams[0].ID != "c1" || len(status) != 0 {
		t.Fatalf("List: %+v %v %v", cams, status, err)
	}
	if st := s.Status(ctx, cams[0]); st.Online {
		t.Fatalf("status without zones: %+v", st)
	}

	if _, err := s.GrantsFor(ctx, p["viewer"], "c1"); !errors.Is(err, authz.ErrForbidden) {
		t.Fatalf("a viewer manages grants: %v", err)
	}
	c1, err := s.GrantsFor(ctx, p["admin"], "c1")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CheckGrantee(ctx, c1, "outsider"); !errors.Is(err, cameras.ErrNotMember) {
		t.Fatalf("grant to a non-member: %v", err)
	}
	if err := s.CheckGrantee(ctx, c1, "viewer"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutGrant(ctx, c1, "viewer", []string{authz.PermPlayback}); err != nil {
		t.Fatal(err)
	}
	if gs, err := s.Grants(ctx, c1); err != nil || len(gs) != 1 || gs[0].UserID != "viewer" || gs[0].Permissions[0] != authz.PermPlayback {
		t.Fatalf("Grants: %+v %v", gs, err)
	}
	for range 2 { // taking a grant away twice is no error
		if err := s.DeleteGrant(ctx, c1, "viewer"); err != nil {
			t.Fatal(err)
		}
	}
	if gs, _ := s.Grants(ctx, c1); len(gs) != 0 {
		t.Fatalf("grant survived: %+v", gs)
	}
	if _, _, err := s.Create(ctx, "o1", cameras.Spec{Name: new("x")}); err == nil {
		t.Fatal("a camera was created with no zone to put it in")
	}
}
