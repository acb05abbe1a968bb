package orgs_test

import (
	"context"
	"errors"
	"testing"

	"github.com/camcloud/camcloud/internal/apptest"
	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/orgs"
	"github.com/camcloud/camcloud/internal/store"
)

// TestService: an organisation is made with its creator as owner; members
// are added (their account created when a password is given) under the
// rules of AddMember; roles change and members go, but never the last owner.
func TestService(t *testing.T) {
	ctx := context.Background()
	dir, accts := apptest.Accounts(t)
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

	bob, inv, created, err := s.AddMember(ctx, admin, o.ID, "bob@example.com", "password-bob", store.RoleAdmin)
	if err != nil || inv != nil || created == nil || bob.Role != store.RoleAdmin || bob.Email != "bob@example.com" {
		t.Fatalf("add a new account: %+v %v %v %v", bob, inv, created, err)
	}
	if _, err := accts.CreateUser(ctx, "zed@example.com", "password-zed", false); err != nil {
		t.Fatal(err)
	}
	byBob := &authz.Principal{UserID: bob.UserID, Roles: map[string]string{o.ID: store.RoleAdmin}}
	const invited = "invited"
	cases := []struct {
		name            string
		p               *authz.Principal
		email, pw, role string
		want            any // error, invited, or nil: an *orgs.AccountError
		created         bool
	}{
		// No existing account joins without consent, and whether an
		// account exists does not change the answer.
		{"no account, no password", admin, "carol@example.com", "", store.RoleViewer, invited, false},
		{"existing account", admin, "zed@example.com", "", store.RoleViewer, invited, false},
		{"existing account with a password", admin, "zed@example.com", "password-zed", store.RoleViewer, invited, false},
		{"already a member", admin, "bob@example.com", "", store.RoleViewer, orgs.ErrAlreadyMember, false},
		{"weak password", admin, "dave@example.com", "x", store.RoleViewer, nil, false},
		// Refused before any account is made.
		{"an admin making an owner", byBob, "erin@example.com", "password-erin", store.RoleOwner, authz.ErrForbidden, false},
	}
	for _, c := range cases {
		_, inv, created, err := s.AddMember(ctx, c.p, o.ID, c.email, c.pw, c.role)
		var ae *orgs.AccountError
		var ok bool
		switch want := c.want.(type) {
		case error:
			ok = errors.Is(err, want)
		case string:
			ok = err == nil && inv != nil && inv.Email == c.email && inv.OrgID == o.ID && inv.Role == c.role
		default:
			ok = errors.As(err, &ae)
		}
		if !ok || (created != nil) != c.created {
			t.Errorf("%s: %v, invitation %+v (created %v)", c.name, err, inv, created != nil)
		}
	}
	if ms, _ := s.Members(ctx, o.ID); len(ms) != 2 {
		t.Fatalf("refused additions added members: %+v", ms)
	}
	if invs, _ := s.OrgInvitations(ctx, admin, o.ID); len(invs) != 2 {
		t.Fatalf("invitations: %+v", invs)
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

// TestSupportCannotJoin: an operator on support duty may manage other
// members but neither add nor change itself.
func TestSupportCannotJoin(t *testing.T) {
	ctx := context.Background()
	dir, accts := apptest.Accounts(t)
	root, _ := accts.CreateUser(ctx, "root@example.com", "password-root", true)
	ops, _ := accts.CreateUser(ctx, "ops@example.com", "password-ops1", true)
	s := orgs.New(dir, accts)
	o, err := s.Create(ctx, &authz.Principal{UserID: root.ID, PlatformAdmin: true}, "acme")
	if err != nil {
		t.Fatal(err)
	}
	acting := &authz.Principal{UserID: ops.ID, Email: ops.Email, PlatformAdmin: true, Roles: map[string]string{}, ActingOrgID: o.ID, ActingRole: store.RoleAdmin}
	if _, _, _, err := s.AddMember(ctx, acting, o.ID, "ops@example.com", "", store.RoleAdmin); !errors.Is(err, authz.ErrForbidden) {
		t.Fatalf("acting operator added itself: %v", err)
	}
	if invs, _ := s.Invitations(ctx, ops); len(invs) != 0 {
		t.Fatalf("acting operator invited itself: %+v", invs)
	}
	if _, err := s.SetRole(ctx, acting, o.ID, ops.ID, store.RoleViewer); !errors.Is(err, authz.ErrForbidden) {
		t.Fatalf("acting operator changed itself: %v", err)
	}
	if _, _, _, err := s.AddMember(ctx, acting, o.ID, "new@example.com", "password-new1", store.RoleViewer); err != nil {
		t.Fatalf("acting operator adding someone else: %v", err)
	}
}
