package store

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestUserColumnUpdatesRace: a password change and TOTP enrolment race,
// round after round, each writing the columns it changed; both changes
// always survive (whole-row updates from rows read earlier lost one).
func TestUserColumnUpdatesRace(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		ctx := ctxT(t)
		d := openDir(t, dsn)
		must(t, d.CreateUser(ctx, User{ID: "race", Email: "race@example.com", PasswordHash: "h0", CreatedAt: t0}))
		for round := range 30 {
			hash, secret := fmt.Sprintf("hash-%d", round), fmt.Sprintf("secret-%d", round)
			must(t, d.DisableTOTP(ctx, "race"))
			var wg sync.WaitGroup
			start := make(chan struct{})
			errs := make(chan error, 3)
			wg.Go(func() { <-start; errs <- d.SetPasswordHash(ctx, "race", hash) })
			wg.Go(func() {
				<-start
				if err := d.SetTOTPSecret(ctx, "race", secret); err != nil {
					errs <- err
					return
				}
				errs <- d.EnableTOTP(ctx, "race", secret)
			})
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				must(t, err)
			}
			u, err := d.GetUser(ctx, "race")
			must(t, err)
			if u.PasswordHash != hash || u.TOTPSecret != secret || !u.TOTPEnabled {
				t.Fatalf("round %d: a change was lost: %+v", round, u)
			}
		}
	})
}

// TestTOTPColumns: the compare-and-set rules of the TOTP columns, and
// recovery codes that each work once.
func TestTOTPColumns(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		ctx := ctxT(t)
		d := openDir(t, dsn)
		must(t, d.CreateUser(ctx, User{ID: "u", Email: "u@example.com", PasswordHash: "h", CreatedAt: t0}))
		wantErr(t, d.SetPasswordHash(ctx, "ghost", "h"), ErrNotFound)
		must(t, d.SetTOTPSecret(ctx, "u", "s1"))
		wantErr(t, d.EnableTOTP(ctx, "u", "other"), ErrNotFound) // a newer secret was begun meanwhile
		must(t, d.EnableTOTP(ctx, "u", "s1"))
		wantErr(t, d.SetTOTPSecret(ctx, "u", "s2"), ErrNotFound) // enabled: no silent re-enrolment
		wantErr(t, d.ReplaceTOTPSecret(ctx, "u", "stale", "enc"), ErrNotFound)
		must(t, d.ReplaceTOTPSecret(ctx, "u", "s1", "enc:s1"))
		must(t, d.SetRecoveryCodes(ctx, "u", []string{"a", "b"}))
		for _, c := range []struct {
			hash string
			want bool
		}{{"a", true}, {"a", false}, {"zz", false}, {"b", true}} {
			ok, err := d.UseRecoveryCode(ctx, "u", c.hash)
			must(t, err)
			if ok != c.want {
				t.Fatalf("UseRecoveryCode(%s) = %v", c.hash, ok)
			}
		}
		must(t, d.SetRecoveryCodes(ctx, "u", []string{"c"}))
		must(t, d.DisableTOTP(ctx, "u"))
		if ok, _ := d.UseRecoveryCode(ctx, "u", "c"); ok {
			t.Fatal("recovery code outlived DisableTOTP")
		}
		u, err := d.GetUser(ctx, "u")
		must(t, err)
		if u.TOTPEnabled || u.TOTPSecret != "" || u.PasswordHash != "h" {
			t.Fatalf("after DisableTOTP: %+v", u)
		}
		if err := d.SetRecoveryCodes(ctx, "u", make([]string, maxRecoveryCodes+1)); err == nil {
			t.Fatal("accepted too many recovery codes")
		}
	})
}

// TestSessionsAndKeys: ending a user's other sessions, and API key scope
// and expiry round-tripping.
func TestSessionsAndKeys(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		ctx := ctxT(t)
		d := openDir(t, dsn)
		for _, id := range []string{"a", "b"} {
			must(t, d.CreateUser(ctx, User{ID: id, Email: id + "@example.com", CreatedAt: t0}))
		}
		for _, s := range []Session{{TokenHash: "a1", UserID: "a"}, {TokenHash: "a2", UserID: "a"}, {TokenHash: "a3", UserID: "a"}, {TokenHash: "b1", UserID: "b"}} {
			s.CreatedAt, s.ExpiresAt = t0, t0.Add(time.Hour)
			must(t, d.CreateSession(ctx, s))
		}
		n, err := d.DeleteUserSessions(ctx, "a", "a2")
		must(t, err)
		if n != 2 {
			t.Fatalf("ended %d sessions, want 2", n)
		}
		for h, want := range map[string]error{"a1": ErrNotFound, "a2": nil, "a3": ErrNotFound, "b1": nil} {
			_, err := d.GetSession(ctx, h)
			wantErr(t, err, want)
		}
		must(t, d.CreateAPIKey(ctx, APIKey{ID: "k1", UserID: "a", Name: "old style", Hash: "h1", CreatedAt: t0}))
		must(t, d.CreateAPIKey(ctx, APIKey{ID: "k2", UserID: "a", Name: "ro", Hash: "h2", CreatedAt: t0, Scope: ScopeRead, ExpiresAt: t0.Add(time.Hour)}))
		if err := d.CreateAPIKey(ctx, APIKey{ID: "k3", UserID: "a", Name: "x", Hash: "h3", CreatedAt: t0, Scope: "admin"}); err == nil {
			t.Fatal("accepted an unknown scope")
		}
		k1, err := d.GetAPIKeyByHash(ctx, "h1")
		must(t, err)
		k2, err := d.GetAPIKeyByHash(ctx, "h2")
		must(t, err)
		if k1.Scope != ScopeFull || !k1.ExpiresAt.IsZero() || k2.Scope != ScopeRead || !k2.ExpiresAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("keys read back: %+v %+v", k1, k2)
		}
	})
}

// TestInvitations: invitations replace each other per organisation and
// email, expire, and turn into a membership once, for their email only.
func TestInvitations(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		ctx := ctxT(t)
		d := openDir(t, dsn)
		must(t, d.CreateUser(ctx, User{ID: "boss", Email: "boss@example.com", CreatedAt: t0}))
		must(t, d.CreateUser(ctx, User{ID: "bob", Email: "bob@example.com", CreatedAt: t0}))
		must(t, d.CreateOrgWithOwner(ctx, Org{ID: "o", Name: "o", CreatedAt: t0}, "boss"))
		must(t, d.CreateOrgWithOwner(ctx, Org{ID: "p", Name: "p", CreatedAt: t0}, "boss"))
		now := t0
		inv := Invitation{ID: "i1", OrgID: "o", Email: "Bob@Example.com", Role: RoleViewer, InvitedBy: "boss", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		must(t, d.PutInvitation(ctx, inv))
		inv.ID, inv.Role = "i2", RoleOperator // a second invitation replaces the first
		must(t, d.PutInvitation(ctx, inv))
		must(t, d.PutInvitation(ctx, Invitation{ID: "i3", OrgID: "p", Email: "bob@example.com", Role: RoleViewer, InvitedBy: "boss", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}))
		list, err := d.ListInvitations(ctx, "BOB@example.com", now)
		must(t, err)
		if len(list) != 2 || list[0].ID != "i2" || list[0].Role != RoleOperator || list[0].Email != "bob@example.com" ||
			list[0].OrgName != "o" || list[1].OrgName != "p" {
			t.Fatalf("invitations: %+v", list)
		}
		if list, _ := d.ListOrgInvitations(ctx, "o", now); len(list) != 1 {
			t.Fatalf("org invitations: %+v", list)
		}
		if list, _ := d.ListInvitations(ctx, "bob@example.com", now.Add(2*time.Minute)); len(list) != 1 {
			t.Fatalf("expired invitation listed: %+v", list)
		}
		_, err = d.AcceptInvitation(ctx, "i2", "boss@example.com", "boss", now)
		wantErr(t, err, ErrNotFound) // another email
		_, err = d.AcceptInvitation(ctx, "i3", "bob@example.com", "bob", now.Add(2*time.Minute))
		wantErr(t, err, ErrNotFound) // expired
		m, err := d.AcceptInvitation(ctx, "i2", "bob@example.com", "bob", now)
		must(t, err)
		if m.OrgID != "o" || m.UserID != "bob" || m.Role != RoleOperator {
			t.Fatalf("membership: %+v", m)
		}
		_, err = d.AcceptInvitation(ctx, "i2", "bob@example.com", "bob", now)
		wantErr(t, err, ErrNotFound) // used
		ms, err := d.ListMembers(ctx, "o")
		must(t, err)
		if len(ms) != 2 {
			t.Fatalf("members: %+v", ms)
		}
		// Invited again while a member: accepting spends it, ErrConflict.
		must(t, d.PutInvitation(ctx, Invitation{ID: "i4", OrgID: "o", Email: "bob@example.com", Role: RoleAdmin, InvitedBy: "boss", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
		_, err = d.AcceptInvitation(ctx, "i4", "bob@example.com", "bob", now)
		wantErr(t, err, ErrConflict)
		if list, _ := d.ListOrgInvitations(ctx, "o", now); len(list) != 0 {
			t.Fatalf("spent invitation kept: %+v", list)
		}
		_, err = d.DeleteInvitation(ctx, "i3", "o", "")
		wantErr(t, err, ErrNotFound) // of another org
		_, err = d.DeleteInvitation(ctx, "i3", "", "boss@example.com")
		wantErr(t, err, ErrNotFound)
		gone, err := d.DeleteInvitation(ctx, "i3", "", "bob@example.com")
		must(t, err)
		if gone.OrgID != "p" || gone.Role != RoleViewer {
			t.Fatalf("deleted invitation: %+v", gone)
		}
	})
}

// TestInvitationLimit: an organisation has at most maxInvitations pending
// invitations; expired ones do not count and are deleted on the way.
func TestInvitationLimit(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		ctx := ctxT(t)
		d := openDir(t, dsn)
		must(t, d.CreateUser(ctx, User{ID: "boss", Email: "boss@example.com", CreatedAt: t0}))
		must(t, d.CreateOrgWithOwner(ctx, Org{ID: "o", Name: "o", CreatedAt: t0}, "boss"))
		put := func(i int, at time.Time, ttl time.Duration) error {
			return d.PutInvitation(ctx, Invitation{ID: fmt.Sprint("i", i), OrgID: "o", Email: fmt.Sprint(i, "@example.com"), Role: RoleViewer,
				InvitedBy: "boss", CreatedAt: at, ExpiresAt: at.Add(ttl)})
		}
		for i := range maxInvitations {
			ttl := time.Hour
			if i < 10 {
				ttl = time.Minute // these expire first
			}
			must(t, put(i, t0, ttl))
		}
		wantErr(t, put(maxInvitations, t0, time.Hour), ErrLimit)
		must(t, put(0, t0, time.Hour)) // replacing one is no new one
		must(t, put(maxInvitations, t0.Add(2*time.Minute), time.Hour))
		list, err := d.ListOrgInvitations(ctx, "o", t0)
		must(t, err)
		if len(list) != maxInvitations-8 { // 9 expired went, one more came
			t.Fatalf("%d invitations kept, want %d", len(list), maxInvitations-8)
		}
	})
}

// TestSQLiteFileMode: a new SQLite database file is readable by its owner
// only.
func TestSQLiteFileMode(t *testing.T) {
	dsn := sqliteDSN(t)
	openDir(t, dsn)
	path := strings.TrimPrefix(dsn, "sqlite:")
	for _, p := range []string{path, path + "-wal"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %o, want 0600", p, st.Mode().Perm())
		}
	}
}
