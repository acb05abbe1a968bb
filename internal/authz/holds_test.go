package authz

import (
	"errors"
	"testing"

	"github.com/camcloud/camcloud/internal/store"
)

func TestHoldsAndStorage(t *testing.T) {
	t.Parallel()
	cam := store.Camera{ID: "c", OrgID: "o1"}
	member := func(role string) *Principal { return &Principal{UserID: "u", Roles: map[string]string{"o1": role}} }
	granted := &Principal{Roles: map[string]string{"o1": store.RoleViewer}, Grants: map[string][]string{"c": GrantablePerms}}
	cases := []struct {
		name                              string
		p                                 *Principal
		view, place, release, quota, read error
	}{
		{"owner", member(store.RoleOwner), nil, nil, nil, nil, nil},
		{"admin", member(store.RoleAdmin), nil, nil, nil, nil, nil},
		{"operator", member(store.RoleOperator), nil, ErrForbidden, ErrForbidden, ErrForbidden, nil},
		{"viewer", member(store.RoleViewer), nil, ErrForbidden, ErrForbidden, ErrForbidden, nil},
		{"viewer granted manage", granted, nil, nil, ErrForbidden, ErrForbidden, nil},
		{"other org", &Principal{Roles: map[string]string{"o2": store.RoleOwner}}, ErrNotFound, ErrNotFound, ErrNotFound, ErrNotFound, ErrNotFound},
		{"platform admin, no member", &Principal{PlatformAdmin: true}, ErrNotFound, ErrNotFound, ErrNotFound, ErrNotFound, ErrNotFound},
		{"support as admin", &Principal{PlatformAdmin: true, ActingOrgID: "o1", ActingRole: store.RoleAdmin}, nil, nil, nil, nil, nil},
		{"nobody", nil, ErrNotFound, ErrNotFound, ErrNotFound, ErrNotFound, ErrNotFound},
	}
	check := func(name, what string, got, want error) {
		if !errors.Is(got, want) || (want == nil) != (got == nil) {
			t.Errorf("%s %s: %v, want %v", name, what, got, want)
		}
	}
	for _, c := range cases {
		check(c.name, "view holds", ViewHolds(c.p, cam), c.view)
		check(c.name, "place hold", PlaceHold(c.p, cam), c.place)
		check(c.name, "release hold", ReleaseHold(c.p, cam), c.release)
		check(c.name, "set quota", ManageStorage(c.p, "o1"), c.quota)
		check(c.name, "read storage", ViewStorage(c.p, "o1"), c.read)
	}
}
