package store

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// TestOwnerRule: an organisation is created with its owner in one step, a
// member is added once, and ChangeMember refuses to demote or remove the
// last owner, runs allow on the current role, and reports non-members.
func TestOwnerRule(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		d := openDir(t, dsn)
		ctx := ctxT(t)
		for _, id := range []string{"u1", "u2"} {
			must(t, d.CreateUser(ctx, User{ID: id, Email: id + "@example.com", CreatedAt: t0}))
		}
		must(t, d.CreateOrgWithOwner(ctx, Org{ID: "o1", Name: "one", CreatedAt: t0}, "u1"))
		wantErr(t, d.CreateOrgWithOwner(ctx, Org{ID: "o2", Name: "two", CreatedAt: t0}, "nobody"), ErrNotFound)
		if _, err := d.GetOrg(ctx, "o2"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("an organisation whose owner failed was stored: %v", err)
		}
		ms, err := d.ListMembers(ctx, "o1")
		if err != nil || len(ms) != 1 || ms[0].UserID != "u1" || ms[0].Role != RoleOwner {
			t.Fatalf("members of a new organisation: %+v %v", ms, err)
		}
		must(t, d.AddMembership(ctx, Membership{OrgID: "o1", UserID: "u2", Role: RoleViewer}))
		wantErr(t, d.AddMembership(ctx, Membership{OrgID: "o1", UserID: "u2", Role: RoleAdmin}), ErrConflict)

		_, err = d.ChangeMember(ctx, "o1", "u1", RoleAdmin, nil)
		wantErr(t, err, ErrLastOwner)
		_, err = d.ChangeMember(ctx, "o1", "u1", "", nil)
		wantErr(t, err, ErrLastOwner)
		_, err = d.ChangeMember(ctx, "o1", "u3", RoleAdmin, nil)
		wantErr(t, err, ErrNotFound)
		refused := errors.New("refused")
		var seen Membership
		_, err = d.ChangeMember(ctx, "o1", "u2", RoleOwner, func(m Membership) error { seen = m; return refused })
		wantErr(t, err, refused)
		if seen != (Membership{OrgID: "o1", UserID: "u2", Email: "u2@example.com", Role: RoleViewer}) {
			t.Fatalf("allow saw %+v", seen)
		}
		old, err := d.ChangeMember(ctx, "o1", "u2", RoleOwner, nil)
		if err != nil || old.Role != RoleViewer {
			t.Fatalf("promote: %+v %v", old, err)
		}
		old, err = d.ChangeMember(ctx, "o1", "u1", "", nil)
		if err != nil || old.Role != RoleOwner {
			t.Fatalf("remove an owner who is not the last: %+v %v", old, err)
		}
		ms, _ = d.ListMembers(ctx, "o1")
		if len(ms) != 1 || ms[0].UserID != "u2" || ms[0].Role != RoleOwner {
			t.Fatalf("members after the changes: %+v", ms)
		}
	})
}

// TestOwnerRuleConcurrent: two owners demote (or remove) each other at the
// same moment, round after round; the organisation always keeps an owner.
// A check-then-write outside one transaction loses this race.
func TestOwnerRuleConcurrent(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		d := openDir(t, dsn)
		ctx := ctxT(t)
		must(t, d.CreateUser(ctx, User{ID: "a", Email: "a@example.com", CreatedAt: t0}))
		must(t, d.CreateUser(ctx, User{ID: "b", Email: "b@example.com", CreatedAt: t0}))
		must(t, d.CreateOrgWithOwner(ctx, Org{ID: "o", Name: "o", CreatedAt: t0}, "a"))
		must(t, d.AddMembership(ctx, Membership{OrgID: "o", UserID: "b", Role: RoleOwner}))
		deadline := time.Now().Add(20 * time.Second)
		for round := 0; round < 100 && time.Now().Before(deadline); round++ {
			role := RoleAdmin
			if round%2 == 1 {
				role = "" // remove instead of demote
			}
			var wg sync.WaitGroup
			start := make(chan struct{})
			errs := make([]error, 2)
			for i, who := range []string{"a", "b"} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, errs[i] = d.ChangeMember(ctx, "o", who, role, nil)
				}()
			}
			close(start)
			wg.Wait()
			ok := 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, ErrLastOwner):
					t.Fatalf("round %d: %v", round, err)
				}
			}
			ms, err := d.ListMembers(ctx, "o")
			must(t, err)
			owners := 0
			for _, m := range ms {
				if m.Role == RoleOwner {
					owners++
				}
			}
			if owners != 1 || ok != 1 {
				t.Fatalf("round %d: %d owners left, %d of 2 changes succeeded: %+v", round, owners, ok, ms)
			}
			// Both owners again for the next round.
			for _, who := range []string{"a", "b"} {
				must(t, d.PutMembership(ctx, Membership{OrgID: "o", UserID: who, Role: RoleOwner}))
			}
		}
	})
}
