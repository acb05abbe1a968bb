package store

import (
	"fmt"
	"sync"
	"testing"
)

// TestGrantsGoWithMembership: removing a member (ChangeMember with no role,
// or DeleteMembership) deletes their grants on the organisation's cameras
// and only those, so that adding them again gives them nothing back.
func TestGrantsGoWithMembership(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		d := openDir(t, dsn)
		ctx := ctxT(t)
		for _, id := range []string{"owner", "viewer"} {
			must(t, d.CreateUser(ctx, User{ID: id, Email: id + "@example.com", CreatedAt: t0}))
		}
		for _, o := range []string{"o1", "o2"} {
			must(t, d.CreateOrgWithOwner(ctx, Org{ID: o, Name: o, CreatedAt: t0}, "owner"))
			must(t, d.CreateCamera(ctx, Camera{ID: "cam-" + o, OrgID: o, Name: o, Zone: "z"}))
		}
		remove := map[string]func(org string) error{
			"ChangeMember": func(org string) error { _, err := d.ChangeMember(ctx, org, "viewer", "", nil); return err },
			"DeleteMembership": func(org string) error {
				return d.DeleteMembership(ctx, org, "viewer")
			},
		}
		for name, rm := range remove {
			for _, o := range []string{"o1", "o2"} {
				must(t, d.AddMembership(ctx, Membership{OrgID: o, UserID: "viewer", Role: RoleViewer}))
				must(t, d.PutGrant(ctx, Grant{CameraID: "cam-" + o, UserID: "viewer", Permissions: []string{"manage"}}))
			}
			must(t, rm("o1"))
			if _, err := d.GetGrant(ctx, "cam-o1", "viewer"); err != ErrNotFound {
				t.Fatalf("%s: the removed member's grant is still there (%v)", name, err)
			}
			if _, err := d.GetGrant(ctx, "cam-o2", "viewer"); err != nil {
				t.Fatalf("%s: the grant in the organisation they stay in went too: %v", name, err)
			}
			must(t, d.AddMembership(ctx, Membership{OrgID: "o1", UserID: "viewer", Role: RoleViewer}))
			if gs, _ := d.ListGrantsForUser(ctx, "viewer"); len(gs) != 1 || gs[0].CameraID != "cam-o2" {
				t.Fatalf("%s: grants after being added again: %+v", name, gs)
			}
			must(t, d.DeleteMembership(ctx, "o1", "viewer"))
			must(t, d.DeleteMembership(ctx, "o2", "viewer"))
		}
		wantErr(t, d.DeleteMembership(ctx, "o1", "viewer"), ErrNotFound)
	})
}

// TestOrphanGrantsMigration: the migration that introduced grants going
// with memberships drops the grants that removed members left behind.
func TestOrphanGrantsMigration(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		d := openDir(t, dsn)
		ctx := ctxT(t)
		must(t, d.CreateUser(ctx, User{ID: "u", Email: "u@example.com", CreatedAt: t0}))
		must(t, d.CreateUser(ctx, User{ID: "gone", Email: "gone@example.com", CreatedAt: t0}))
		must(t, d.CreateOrgWithOwner(ctx, Org{ID: "o", Name: "o", CreatedAt: t0}, "u"))
		must(t, d.CreateCamera(ctx, Camera{ID: "c", OrgID: "o", Name: "c", Zone: "z"}))
		must(t, d.PutGrant(ctx, Grant{CameraID: "c", UserID: "u", Permissions: []string{"live"}}))
		must(t, d.PutGrant(ctx, Grant{CameraID: "c", UserID: "gone", Permissions: []string{"manage"}})) // as an old release left it
		db := d.(*directory).db
		if _, err := db.ExecContext(ctx, dropOrphanGrants); err != nil {
			t.Fatal(err)
		}
		gs, err := d.ListGrantsForUser(ctx, "gone")
		if err != nil || len(gs) != 0 {
			t.Fatalf("orphan grant kept: %+v %v", gs, err)
		}
		if _, err := d.GetGrant(ctx, "c", "u"); err != nil {
			t.Fatalf("a member's grant was dropped: %v", err)
		}
		var name string
		if err := db.QueryRowContext(ctx, "SELECT name FROM schema_migrations WHERE scope = 'directory' AND version = 3").Scan(&name); err != nil {
			t.Fatalf("migration 3 not recorded: %v", err)
		}
	})
}

// TestModifyCamera: edits made with ModifyCamera on a locked row do not
// undo each other when they race (a key rotation against a rename), fn's
// refusal writes nothing, and what identifies a camera cannot change.
func TestModifyCamera(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		d := openDir(t, dsn)
		ctx := ctxT(t)
		must(t, d.CreateOrg(ctx, Org{ID: "o", Name: "o", CreatedAt: t0}))
		must(t, d.CreateCamera(ctx, Camera{ID: "c", OrgID: "o", Name: "c", Zone: "z", Recording: "continuous", IngestSecretHash: "h0"}))
		// Each edit also counts itself in RetentionDays: a lost update
		// would leave the count short.
		const rounds = 20
		var wg sync.WaitGroup
		errs := make(chan error, 2*rounds)
		edit := func(f func(c *Camera)) {
			defer wg.Done()
			_, _, err := d.ModifyCamera(ctx, "c", func(c *Camera) error { f(c); c.RetentionDays++; return nil })
			errs <- err
		}
		for i := range rounds {
			wg.Add(2)
			go edit(func(c *Camera) { c.IngestSecretHash = fmt.Sprintf("h%d", i+1) })
			go edit(func(c *Camera) { c.Name = fmt.Sprintf("n%d", i) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			must(t, err)
		}
		got, err := d.GetCamera(ctx, "c")
		must(t, err)
		if got.RetentionDays != 2*rounds || got.IngestSecretHash == "h0" || got.Name == "c" {
			t.Fatalf("after %d racing rotations and renames: %+v", rounds, got)
		}

		refused := fmt.Errorf("refused")
		_, _, err = d.ModifyCamera(ctx, "c", func(c *Camera) error { c.Name = "x"; return refused })
		wantErr(t, err, refused)
		if c, _ := d.GetCamera(ctx, "c"); c.Name == "x" {
			t.Fatal("a refused change was written")
		}
		for _, f := range []func(*Camera){func(c *Camera) { c.Zone = "z2" }, func(c *Camera) { c.OrgID = "o2" }} {
			if _, _, err := d.ModifyCamera(ctx, "c", func(c *Camera) error { f(c); return nil }); err == nil {
				t.Fatal("a camera's zone or organisation changed")
			}
		}
		_, _, err = d.ModifyCamera(ctx, "ghost", func(*Camera) error { return nil })
		wantErr(t, err, ErrNotFound)
	})
}

// TestCameraChanges: every camera write replaces its zone's change token
// (both zones' when UpdateCamera moves it), and only its zone's.
func TestCameraChanges(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		d := openDir(t, dsn)
		ctx := ctxT(t)
		must(t, d.CreateOrg(ctx, Org{ID: "o", Name: "o", CreatedAt: t0}))
		token := func(zone string) int64 {
			v, err := d.CameraChanges(ctx, zone)
			must(t, err)
			return v
		}
		if token("za") != 0 {
			t.Fatal("token before any change")
		}
		steps := []struct {
			name    string
			write   func() error
			changed []string
		}{
			{"create", func() error { return d.CreateCamera(ctx, Camera{ID: "c", OrgID: "o", Name: "c", Zone: "za"}) }, []string{"za"}},
			{"modify", func() error {
				_, _, err := d.ModifyCamera(ctx, "c", func(c *Camera) error { c.Recording = "off"; return nil })
				return err
			}, []string{"za"}},
			{"move", func() error { return d.UpdateCamera(ctx, Camera{ID: "c", OrgID: "o", Name: "c", Zone: "zb"}) }, []string{"za", "zb"}},
			{"delete", func() error { return d.DeleteCamera(ctx, "c") }, []string{"zb"}},
		}
		for _, s := range steps {
			before := map[string]int64{"za": token("za"), "zb": token("zb"), "zc": token("zc")}
			must(t, s.write())
			for z, v := range before {
				want := false
				for _, c := range s.changed {
					want = want || c == z
				}
				if got := token(z) != v; got != want {
					t.Errorf("%s: token of %s changed: %v, want %v", s.name, z, got, want)
				}
			}
		}
		wantErr(t, d.DeleteCamera(ctx, "c"), ErrNotFound)
	})
}
