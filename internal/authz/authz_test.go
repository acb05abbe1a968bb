package authz

import (
	"errors"
	"testing"

	"github.com/camcloud/camcloud/internal/store"
)

func member(role string) *Principal {
	return &Principal{UserID: "u", Roles: map[string]string{"org1": role}}
}

// TestRoleCameraTable is the permission table of every role on a camera of
// its own organisation, and of anyone on another organisation's camera.
func TestRoleCameraTable(t *testing.T) {
	cam := store.Camera{ID: "c1", OrgID: "org1"}
	other := store.Camera{ID: "c2", OrgID: "org2"}
	want := map[string]map[string]error{
		store.RoleOwner:    {PermView: nil, PermLive: nil, PermPlayback: nil, PermExport: nil, PermManage: nil},
		store.RoleAdmin:    {PermView: nil, PermLive: nil, PermPlayback: nil, PermExport: nil, PermManage: nil},
		store.RoleOperator: {PermView: nil, PermLive: nil, PermPlayback: nil, PermExport: nil, PermManage: ErrForbidden},
		store.RoleViewer:   {PermView: nil, PermLive: nil, PermPlayback: nil, PermExport: ErrForbidden, PermManage: ErrForbidden},
	}
	for role, perms := range want {
		for perm, exp := range perms {
			if got := Camera(member(role), cam, perm); !errors.Is(got, exp) && got != exp {
				t.Errorf("%s %s: got %v want %v", role, perm, got, exp)
			}
			if got := Camera(member(role), other, perm); got != ErrNotFound {
				t.Errorf("%s %s on other org: got %v want ErrNotFound", role, perm, got)
			}
		}
	}
	if Camera(nil, cam, PermView) != ErrNotFound {
		t.Error("anonymous must get not found")
	}
	// Platform admins are not members: they see nothing until they assume a role.
	pa := &Principal{UserID: "a", PlatformAdmin: true}
	if Camera(pa, cam, PermView) != ErrNotFound {
		t.Error("platform admin without assumed role must not see org cameras")
	}
	pa.ActingOrgID, pa.ActingRole = "org1", store.RoleAdmin
	if Camera(pa, cam, PermManage) != nil || Camera(pa, other, PermView) != ErrNotFound {
		t.Error("assumed role must apply to that org only")
	}
}

func TestGrantsAdd(t *testing.T) {
	cam := store.Camera{ID: "c1", OrgID: "org1"}
	p := member(store.RoleViewer)
	if Camera(p, cam, PermExport) != ErrForbidden {
		t.Fatal("viewer must not export without a grant")
	}
	p.Grants = map[string][]string{"c1": {PermExport}}
	if Camera(p, cam, PermExport) != nil {
		t.Fatal("grant must add export")
	}
	if Camera(p, store.Camera{ID: "c3", OrgID: "org1"}, PermExport) != ErrForbidden {
		t.Fatal("grant must apply to its camera only")
	}
	// A grant alone does not make another organisation's camera visible.
	p2 := &Principal{UserID: "x", Grants: map[string][]string{"c1": {PermLive}}}
	if Camera(p2, cam, PermLive) != ErrNotFound {
		t.Fatal("grant without membership must not reveal the camera")
	}
}

func TestOrgActionsTable(t *testing.T) {
	cases := []struct {
		role   string
		action string
		want   error
	}{
		{store.RoleOwner, OrgManageMembers, nil},
		{store.RoleAdmin, OrgManageMembers, nil},
		{store.RoleOperator, OrgManageMembers, ErrForbidden},
		{store.RoleViewer, OrgManageMembers, ErrForbidden},
		{store.RoleOwner, OrgCreateCamera, nil},
		{store.RoleAdmin, OrgCreateCamera, nil},
		{store.RoleOperator, OrgCreateCamera, ErrForbidden},
		{store.RoleViewer, OrgCreateCamera, ErrForbidden},
		{store.RoleAdmin, OrgAudit, nil},
		{store.RoleOperator, OrgAudit, ErrForbidden},
		{store.RoleViewer, OrgView, nil},
	}
	for _, c := range cases {
		if got := Org(member(c.role), "org1", c.action); got != c.want {
			t.Errorf("%s %s: got %v want %v", c.role, c.action, got, c.want)
		}
		if got := Org(member(c.role), "org2", c.action); got != ErrNotFound {
			t.Errorf("%s %s other org: got %v", c.role, c.action, got)
		}
	}
}

func TestSetRole(t *testing.T) {
	cases := []struct {
		actor, from, to string
		want            error
	}{
		{store.RoleOwner, "", store.RoleOwner, nil},
		{store.RoleOwner, store.RoleOwner, "", nil},
		{store.RoleAdmin, "", store.RoleAdmin, nil},
		{store.RoleAdmin, "", store.RoleOwner, ErrForbidden},
		{store.RoleAdmin, store.RoleOwner, "", ErrForbidden},
		{store.RoleAdmin, store.RoleViewer, store.RoleOperator, nil},
		{store.RoleOperator, "", store.RoleViewer, ErrForbidden},
		{store.RoleViewer, store.RoleViewer, "", ErrForbidden},
	}
	for _, c := range cases {
		if got := SetRole(member(c.actor), "org1", c.from, c.to); got != c.want {
			t.Errorf("%s sets %q->%q: got %v want %v", c.actor, c.from, c.to, got, c.want)
		}
	}
}

func TestCreateOrgAndAudit(t *testing.T) {
	if CreateOrg(member(store.RoleOwner)) != ErrForbidden || CreateOrg(&Principal{PlatformAdmin: true}) != nil {
		t.Fatal("only platform admins create organisations")
	}
	if AuditOrgs(&Principal{PlatformAdmin: true}) != nil {
		t.Fatal("platform admin reads all audit")
	}
	if got := AuditOrgs(member(store.RoleViewer)); len(got) != 0 {
		t.Fatalf("viewer audit orgs: %v", got)
	}
	if got := AuditOrgs(member(store.RoleAdmin)); len(got) != 1 || got[0] != "org1" {
		t.Fatalf("admin audit orgs: %v", got)
	}
	if AssumeRole(&Principal{PlatformAdmin: true}, false) != ErrForbidden {
		t.Fatal("assume role must need the second factor")
	}
}

func TestChangeOwnMembership(t *testing.T) {
	acting := &Principal{UserID: "op", Email: "ops@example.com", PlatformAdmin: true, ActingOrgID: "o1", ActingRole: store.RoleAdmin}
	member := &Principal{UserID: "op", Email: "ops@example.com", Roles: map[string]string{"o1": store.RoleAdmin}}
	for _, c := range []struct {
		name             string
		p                *Principal
		org, user, email string
		want             error
	}{
		{"acting, itself by id", acting, "o1", "op", "", ErrForbidden},
		{"acting, itself by email", acting, "o1", "", "OPS@example.com", ErrForbidden},
		{"acting, someone else", acting, "o1", "u2", "", nil},
		{"acting, someone else by email", acting, "o1", "", "bob@example.com", nil},
		{"acting elsewhere", acting, "o2", "op", "", nil},
		{"a real member changing itself", member, "o1", "op", "", nil},
		{"nobody", nil, "o1", "op", "", nil},
	} {
		if err := ChangeOwnMembership(c.p, c.org, c.user, c.email); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func TestPostEvent(t *testing.T) {
	cam := store.Camera{ID: "cam", OrgID: "org"}
	cases := []struct {
		name string
		p    *Principal
		want error
	}{
		{"owner", &Principal{Roles: map[string]string{"org": store.RoleOwner}}, nil},
		{"admin", &Principal{Roles: map[string]string{"org": store.RoleAdmin}}, nil},
		{"operator", &Principal{Roles: map[string]string{"org": store.RoleOperator}}, nil},
		{"viewer", &Principal{Roles: map[string]string{"org": store.RoleViewer}}, ErrForbidden},
		{"viewer with export", &Principal{Roles: map[string]string{"org": store.RoleViewer}, Grants: map[string][]string{"cam": {PermExport}}}, ErrForbidden},
		{"viewer with manage", &Principal{Roles: map[string]string{"org": store.RoleViewer}, Grants: map[string][]string{"cam": {PermManage}}}, nil},
		{"other org", &Principal{Roles: map[string]string{"other": store.RoleOwner}}, ErrNotFound},
		{"platform admin", &Principal{PlatformAdmin: true}, ErrNotFound},
		{"nobody", nil, ErrNotFound},
	}
	for _, c := range cases {
		if got := PostEvent(c.p, cam); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
