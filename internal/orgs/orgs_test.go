package orgs_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/account"
	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/orgs"
	"github.com/camcloud/camcloud/internal/store"
)

// TestService: an organisation is made with its creator as owner; members
// are added (their account created when a password is given) under the
// rules of AddMember; roles change and members go, but never the last owner.
func TestService(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	dir, err := store.OpenDirectory(ctx, "sqlite:"+filepath.Join(t.TempDir(), "dir.db"), log)
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	accts, err := account.New(dir, log, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	root, err := accts.CreateUser(ctx, "root@example.com", "password-root", true)
	if err != nil {
		t.Fatal(err)
	}
	s := orgs.New(dir, accts)
	admin := &authz.Principal{UserID: root.ID, PlatformAdmin: true, Roles: map[string]string{}}
	if _, err := s.Create(ctx, &authz.Principal{UserID: "x", Roles: map[string]string{}}, "nope"); !errors.Is(err, authz.ErrForbidden) {
		t.Fatalf("a plain user created an organisation: %v", err)
	}
	o, err := s.Create(ctx, admin, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if m, err := s.Member(ctx, o.ID, root.ID); err != nil || m.Role != store.RoleOwner {
		t.Fatalf("creator's membership: %+v %v", m, err)
	}
	admin.Roles[o.ID] = store.RoleOwner

	bob, created, err := s.AddMember(ctx, admin, o.ID, "bob@example.com", "password-bob", store.RoleAdmin)
	if err != nil || created == nil || bob.Role != store.RoleAdmin || bob.Email != "bob@example.com" {
		t.Fatalf("add a new account: %+v %v %v", bob, created, err)
	}
	byBob := &authz.Principal{UserID: bob.UserID, Roles: map[string]string{o.ID: store.RoleAdmin}}
	cases := []struct {
		name            string
		p               *authz.Principal
		email, pw, role string
		want            error // nil: an *orgs.AccountError
		created         bool
	}{
		{"no account, no password", admin, "carol@example.com", "", store.RoleViewer, orgs.ErrNeedPassword, false},
		{"existing account with a password", admin, "bob@example.com", "password-bob", store.RoleViewer, orgs.ErrAccountExists, false},
		{"already a member", admin, "bob@example.com", "", store.RoleViewer, orgs.ErrAlreadyMember, false},
		{"weak password", admin, "dave@example.com", "x", store.RoleViewer, nil, false},
		{"an admin making an owner", byBob, "erin@example.com", "password-erin", store.RoleOwner, authz.ErrForbidden, true},
	}
	for _, c := range cases {
		_, created, err := s.AddMember(ctx, c.p, o.ID, c.email, c.pw, c.role)
		var ae *orgs.AccountError
		ok := c.want != nil && errors.Is(err, c.want) || c.want == nil && errors.As(err, &ae)
		if !ok || (created != nil) != c.created {
			t.Errorf("%s: %v (created %v)", c.name, err, created != nil)
		}
	}
	if ms, _ := s.Members(ctx, o.ID); len(ms) != 2 {
		t.Fatalf("refused additions added members: %+v", ms)
	}

	if _, err := s.SetRole(ctx, admin, o.ID, root.ID, store.RoleAdmin); !errors.Is(err, store.ErrLastOwner) {
		t.Fatalf("demote the last owner: %v", err)
	}
	if _, err := s.SetRole(ctx, byBob, o.ID, root.ID, ""); !errors.Is(err, authz.ErrForbidden) {
		t.Fatalf("an admin removed an owner: %v", err)
	}
	if old, err := s.SetRole(ctx, admin, o.ID, bob.UserID, store.RoleOwner); err != nil || old.Role != store.RoleAdmin {
		t.Fatalf("promote: %+v %v", old, err)
	}
	if _, err := s.SetRole(ctx, admin, o.ID, root.ID, ""); err != nil {
		t.Fatalf("remove an owner who is not the last: %v", err)
	}
	if list, err := s.List(ctx, &authz.Principal{UserID: bob.UserID, Roles: map[string]string{o.ID: store.RoleOwner}}); err != nil || len(list) != 1 || list[0].ID != o.ID {
		t.Fatalf("List: %+v %v", list, err)
	}
}
