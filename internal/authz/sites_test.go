package authz

import (
	"errors"
	"testing"

	"github.com/camcloud/camcloud/internal/store"
)

func TestManageAndViewSites(t *testing.T) {
	t.Parallel()
	member := func(role string) *Principal { return &Principal{UserID: "u", Roles: map[string]string{"o1": role}} }
	cases := []struct {
		name         string
		p            *Principal
		manage, view error
	}{
		{"owner", member(store.RoleOwner), nil, nil},
		{"admin", member(store.RoleAdmin), nil, nil},
		{"operator", member(store.RoleOperator), ErrForbidden, nil},
		{"viewer", member(store.RoleViewer), ErrForbidden, nil},
		{"other org", &Principal{Roles: map[string]string{"o2": store.RoleOwner}}, ErrNotFound, ErrNotFound},
		{"platform admin, no member", &Principal{PlatformAdmin: true}, ErrNotFound, ErrNotFound},
		{"support as admin", &Principal{PlatformAdmin: true, ActingOrgID: "o1", ActingRole: store.RoleAdmin}, nil, nil},
		{"nobody", nil, ErrNotFound, ErrNotFound},
	}
	same := func(err, want error) bool { return errors.Is(err, want) && (want == nil) == (err == nil) }
	for _, c := range cases {
		if err := ManageSites(c.p, "o1"); !same(err, c.manage) {
			t.Errorf("manage, %s: %v, want %v", c.name, err, c.manage)
		}
		if err := ViewSite(c.p, "o1"); !same(err, c.view) {
			t.Errorf("view, %s: %v, want %v", c.name, err, c.view)
		}
	}
}

func TestAgentCamera(t *testing.T) {
	t.Parallel()
	a := &Agent{SiteID: "s1", OrgID: "o1"}
	cases := []struct {
		name string
		a    *Agent
		cam  store.Camera
		want error
	}{
		{"its site's camera", a, store.Camera{OrgID: "o1", SiteID: "s1"}, nil},
		{"a camera at no site", a, store.Camera{OrgID: "o1"}, ErrNotFound},
		{"another site's camera", a, store.Camera{OrgID: "o1", SiteID: "s2"}, ErrNotFound},
		{"another organisation's camera naming the site", a, store.Camera{OrgID: "o2", SiteID: "s1"}, ErrNotFound},
		{"no agent", nil, store.Camera{OrgID: "o1", SiteID: "s1"}, ErrNotFound},
		{"an agent without a site", &Agent{OrgID: "o1"}, store.Camera{OrgID: "o1"}, ErrNotFound},
	}
	for _, c := range cases {
		if err := AgentCamera(c.a, c.cam); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}
