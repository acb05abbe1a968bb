package authz

import (
	"errors"
	"testing"

	"github.com/camcloud/camcloud/internal/store"
)

func TestManageWebhooks(t *testing.T) {
	t.Parallel()
	member := func(role string) *Principal { return &Principal{UserID: "u", Roles: map[string]string{"o1": role}} }
	cases := []struct {
		name string
		p    *Principal
		want error
	}{
		{"owner", member(store.RoleOwner), nil},
		{"admin", member(store.RoleAdmin), nil},
		{"operator", member(store.RoleOperator), ErrForbidden},
		{"viewer", member(store.RoleViewer), ErrForbidden},
		{"viewer with grants", &Principal{Roles: map[string]string{"o1": store.RoleViewer}, Grants: map[string][]string{"c": GrantablePerms}}, ErrForbidden},
		{"other org", &Principal{Roles: map[string]string{"o2": store.RoleOwner}}, ErrNotFound},
		{"platform admin, no member", &Principal{PlatformAdmin: true}, ErrNotFound},
		{"support as admin", &Principal{PlatformAdmin: true, ActingOrgID: "o1", ActingRole: store.RoleAdmin}, nil},
		{"nobody", nil, ErrNotFound},
	}
	for _, c := range cases {
		if err := ManageWebhooks(c.p, "o1"); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}
