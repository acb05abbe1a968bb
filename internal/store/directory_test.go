package store

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDirectory(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		d := openDir(t, dsn)
		t.Run("orgs", func(t *testing.T) { testOrgs(t, d) })
		t.Run("users", func(t *testing.T) { testUsers(t, d) })
		t.Run("memberships", func(t *testing.T) { testMemberships(t, d) })
		t.Run("cameras", func(t *testing.T) { testCameras(t, d) })
		t.Run("grants", func(t *testing.T) { testGrants(t, d) })
		t.Run("sessions", func(t *testing.T) { testSessions(t, d) })
		t.Run("apikeys", func(t *testing.T) { testAPIKeys(t, d) })
		t.Run("audit", func(t *testing.T) { testAudit(t, d, strings.Contains(dsn, "sqlite:")) })
		t.Run("injection", func(t *testing.T) { testInjection(t, d) })
		t.Run("validation", func(t *testing.T) { testDirectoryValidation(t, d) })
	})
}

func testOrgs(t *testing.T, d Directory) {
	ctx := ctxT(t)
	a := Org{ID: "org-a", Name: "Acme", CreatedAt: t0}
	must(t, d.CreateOrg(ctx, a))
	must(t, d.CreateOrg(ctx, Org{ID: "org-b", Name: "Beta", CreatedAt: t0}))
	got, err := d.GetOrg(ctx, "org-a")
	must(t, err)
	if got.ID != a.ID || got.Name != a.Name || !got.CreatedAt.Equal(a.CreatedAt) {
		t.Fatalf("GetOrg = %+v, want %+v", got, a)
	}
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt location = %v, want UTC", got.CreatedAt.Location())
	}
	_, err = d.GetOrg(ctx, "nope")
	wantErr(t, err, ErrNotFound)
	wantErr(t, d.CreateOrg(ctx, Org{ID: "org-a", Name: "Other"}), ErrConflict)
	wantErr(t, d.CreateOrg(ctx, Org{ID: "org-c", Name: "Acme"}), ErrConflict)
	list, err := d.ListOrgs(ctx)
	must(t, err)
	if len(list) != 2 || list[0].Name != "Acme" || list[1].Name != "Beta" {
		t.Fatalf("ListOrgs = %+v", list)
	}
}

func testUsers(t *testing.T, d Directory) {
	ctx := ctxT(t)
	n0, err := d.CountUsers(ctx)
	must(t, err)
	u := User{ID: "u1", Email: "Alice@Example.COM", PasswordHash: "$argon2id$x", TOTPSecret: "JBSW", TOTPEnabled: true, PlatformAdmin: true, CreatedAt: t0}
	must(t, d.CreateUser(ctx, u))
	must(t, d.CreateUser(ctx, User{ID: "u2", Email: "bob@example.com", CreatedAt: t0}))
	wantErr(t, d.CreateUser(ctx, User{ID: "u3", Email: "ALICE@example.com"}), ErrConflict)
	wantErr(t, d.CreateUser(ctx, User{ID: "u1", Email: "carol@example.com"}), ErrConflict)

	got, err := d.GetUser(ctx, "u1")
	must(t, err)
	want := u
	want.Email = "alice@example.com"
	if !got.CreatedAt.Equal(want.CreatedAt) {
		t.Fatalf("CreatedAt = %v, want %v", got.CreatedAt, want.CreatedAt)
	}
	got.CreatedAt, want.CreatedAt = time.Time{}, time.Time{}
	if got != want {
		t.Fatalf("GetUser = %+v, want %+v", got, want)
	}
	// TOTP steps are used once, and never an older one after a newer one.
	for _, c := range []struct {
		step int64
		want bool
	}{{100, true}, {100, false}, {99, false}, {101, true}} {
		ok, err := d.UseTOTPStep(ctx, "u1", c.step)
		must(t, err)
		if ok != c.want {
			t.Fatalf("UseTOTPStep(%d) = %v, want %v", c.step, ok, c.want)
		}
	}
	byEmail, err := d.GetUserByEmail(ctx, "aLiCe@example.com")
	must(t, err)
	if byEmail.ID != "u1" {
		t.Fatalf("GetUserByEmail = %+v", byEmail)
	}
	_, err = d.GetUserByEmail(ctx, "nobody@example.com")
	wantErr(t, err, ErrNotFound)
	_, err = d.GetUser(ctx, "nope")
	wantErr(t, err, ErrNotFound)

	got.Email, got.TOTPEnabled, got.PasswordHash = "Alice2@example.com", false, "new"
	must(t, d.UpdateUser(ctx, got))
	// Updating with identical values still finds the row.
	must(t, d.UpdateUser(ctx, got))
	again, err := d.GetUser(ctx, "u1")
	must(t, err)
	if again.Email != "alice2@example.com" || again.TOTPEnabled || again.PasswordHash != "new" || !again.PlatformAdmin {
		t.Fatalf("after UpdateUser: %+v", again)
	}
	wantErr(t, d.UpdateUser(ctx, User{ID: "u2", Email: "ALICE2@example.com"}), ErrConflict)
	wantErr(t, d.UpdateUser(ctx, User{ID: "ghost", Email: "ghost@example.com"}), ErrNotFound)
	n, err := d.CountUsers(ctx)
	must(t, err)
	if n != n0+2 {
		t.Fatalf("CountUsers = %d, want %d", n, n0+2)
	}
}

func testMemberships(t *testing.T, d Directory) {
	ctx := ctxT(t)
	must(t, d.CreateOrg(ctx, Org{ID: "m-org", Name: "Members Org"}))
	must(t, d.CreateUser(ctx, User{ID: "m-u1", Email: "zed@example.com"}))
	must(t, d.CreateUser(ctx, User{ID: "m-u2", Email: "amy@example.com"}))
	must(t, d.PutMembership(ctx, Membership{OrgID: "m-org", UserID: "m-u1", Role: RoleViewer}))
	must(t, d.PutMembership(ctx, Membership{OrgID: "m-org", UserID: "m-u1", Role: RoleAdmin})) // update
	must(t, d.PutMembership(ctx, Membership{OrgID: "m-org", UserID: "m-u2", Role: RoleOwner}))
	members, err := d.ListMembers(ctx, "m-org")
	must(t, err)
	want := []Membership{
		{OrgID: "m-org", UserID: "m-u2", Email: "amy@example.com", Role: RoleOwner},
		{OrgID: "m-org", UserID: "m-u1", Email: "zed@example.com", Role: RoleAdmin},
	}
	if !reflect.DeepEqual(members, want) {
		t.Fatalf("ListMembers = %+v, want %+v", members, want)
	}
	ms, err := d.ListMemberships(ctx, "m-u1")
	must(t, err)
	if len(ms) != 1 || ms[0].Role != RoleAdmin || ms[0].Email != "zed@example.com" {
		t.Fatalf("ListMemberships = %+v", ms)
	}
	wantErr(t, d.PutMembership(ctx, Membership{OrgID: "m-org", UserID: "ghost", Role: RoleViewer}), ErrNotFound)
	wantErr(t, d.PutMembership(ctx, Membership{OrgID: "ghost", UserID: "m-u1", Role: RoleViewer}), ErrNotFound)
	must(t, d.DeleteMembership(ctx, "m-org", "m-u1"))
	wantErr(t, d.DeleteMembership(ctx, "m-org", "m-u1"), ErrNotFound)
	members, err = d.ListMembers(ctx, "m-org")
	must(t, err)
	if len(members) != 1 || members[0].UserID != "m-u2" {
		t.Fatalf("after delete ListMembers = %+v", members)
	}
}

func testCameras(t *testing.T, d Directory) {
	ctx := ctxT(t)
	must(t, d.CreateOrg(ctx, Org{ID: "c-org1", Name: "Cam Org 1"}))
	must(t, d.CreateOrg(ctx, Org{ID: "c-org2", Name: "Cam Org 2"}))
	c1 := Camera{ID: "cam1", OrgID: "c-org1", Name: "Front door", Zone: "z1", SourceType: "pull",
		SourceURL: "rtsp://user:pw@10.0.0.9/stream", RetentionDays: 30, Recording: "continuous", IngestSecretHash: "h1", CreatedAt: t0,
		MotionOff: true, MotionSensitivity: 8, Labels: map[string]string{"site": "shibuya", "cost-center": "retail"}}
	must(t, d.CreateCamera(ctx, c1))
	must(t, d.CreateCamera(ctx, Camera{ID: "cam2", OrgID: "c-org1", Name: "Back yard", Zone: "z2", SourceType: "push", Recording: "off"}))
	must(t, d.CreateCamera(ctx, Camera{ID: "cam3", OrgID: "c-org2", Name: "Lobby", Zone: "z1", SourceType: "push"}))
	wantErr(t, d.CreateCamera(ctx, Camera{ID: "cam1", OrgID: "c-org1", Name: "dup", Zone: "z1"}), ErrConflict)
	wantErr(t, d.CreateCamera(ctx, Camera{ID: "cam9", OrgID: "ghost", Name: "x", Zone: "z1"}), ErrNotFound)

	got, err := d.GetCamera(ctx, "cam1")
	must(t, err)
	if !got.CreatedAt.Equal(c1.CreatedAt) {
		t.Fatalf("CreatedAt = %v", got.CreatedAt)
	}
	got.CreatedAt = c1.CreatedAt
	if !reflect.DeepEqual(got, c1) {
		t.Fatalf("GetCamera = %+v, want %+v", got, c1)
	}
	_, err = d.GetCamera(ctx, "nope")
	wantErr(t, err, ErrNotFound)

	got.Name, got.RetentionDays, got.Zone = "Front door 2", 7, "z3"
	got.MotionOff, got.MotionSensitivity = false, 3
	got.Labels = map[string]string{"site": "ebisu"}
	must(t, d.UpdateCamera(ctx, got))
	again, _ := d.GetCamera(ctx, "cam1")
	if again.Name != "Front door 2" || again.RetentionDays != 7 || again.Zone != "z3" || again.MotionOff || again.MotionSensitivity != 3 ||
		!reflect.DeepEqual(again.Labels, map[string]string{"site": "ebisu"}) {
		t.Fatalf("after update: %+v", again)
	}
	if c2, _ := d.GetCamera(ctx, "cam2"); c2.MotionOff || c2.MotionSensitivity != 0 || c2.Labels != nil {
		t.Fatalf("a camera created without a motion setting: %+v, want detection on at the default", c2)
	}
	bad := again
	bad.MotionSensitivity = -1
	if err := d.UpdateCamera(ctx, bad); err == nil {
		t.Fatal("a negative motion sensitivity was stored")
	}
	wantErr(t, d.UpdateCamera(ctx, Camera{ID: "ghost", OrgID: "c-org1", Name: "x", Zone: "z1"}), ErrNotFound)

	ids := func(cs []Camera) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	for _, tc := range []struct {
		orgs []string
		want []string
	}{
		{nil, []string{"cam2", "cam1", "cam3"}}, // by name: Back yard, Front door 2, Lobby
		{[]string{"c-org1"}, []string{"cam2", "cam1"}},
		{[]string{"c-org2", "c-org1"}, []string{"cam2", "cam1", "cam3"}},
		{[]string{}, nil},
		{[]string{"ghost"}, nil},
	} {
		list, err := d.ListCameras(ctx, tc.orgs)
		must(t, err)
		if !reflect.DeepEqual(ids(list), tc.want) {
			t.Errorf("ListCameras(%v) = %v, want %v", tc.orgs, ids(list), tc.want)
		}
	}
	byZone, err := d.ListCamerasByZone(ctx, "z1")
	must(t, err)
	if !reflect.DeepEqual(ids(byZone), []string{"cam3"}) {
		t.Errorf("ListCamerasByZone(z1) = %v", ids(byZone))
	}
	counts, err := d.CountCamerasByZone(ctx)
	must(t, err)
	if !reflect.DeepEqual(counts, map[string]int{"z1": 1, "z2": 1, "z3": 1}) {
		t.Errorf("CountCamerasByZone = %v", counts)
	}

	// Deleting a camera deletes its grants.
	must(t, d.CreateUser(ctx, User{ID: "c-u", Email: "cam-user@example.com"}))
	must(t, d.PutGrant(ctx, Grant{CameraID: "cam2", UserID: "c-u", Permissions: []string{"live"}}))
	must(t, d.DeleteCamera(ctx, "cam2"))
	wantErr(t, d.DeleteCamera(ctx, "cam2"), ErrNotFound)
	_, err = d.GetCamera(ctx, "cam2")
	wantErr(t, err, ErrNotFound)
	_, err = d.GetGrant(ctx, "cam2", "c-u")
	wantErr(t, err, ErrNotFound)
	gs, err := d.ListGrantsForUser(ctx, "c-u")
	must(t, err)
	if len(gs) != 0 {
		t.Fatalf("grants left after DeleteCamera: %+v", gs)
	}
}

func testGrants(t *testing.T, d Directory) {
	ctx := ctxT(t)
	must(t, d.CreateOrg(ctx, Org{ID: "g-org", Name: "Grant Org"}))
	must(t, d.CreateUser(ctx, User{ID: "g-u", Email: "grantee@example.com"}))
	for _, id := range []string{"g-cam1", "g-cam2"} {
		must(t, d.CreateCamera(ctx, Camera{ID: id, OrgID: "g-org", Name: id, Zone: "z"}))
	}
	must(t, d.PutGrant(ctx, Grant{CameraID: "g-cam2", UserID: "g-u", Permissions: []string{"live"}}))
	must(t, d.PutGrant(ctx, Grant{CameraID: "g-cam2", UserID: "g-u", Permissions: []string{"live", "playback", "export"}}))
	must(t, d.PutGrant(ctx, Grant{CameraID: "g-cam1", UserID: "g-u"}))
	g, err := d.GetGrant(ctx, "g-cam2", "g-u")
	must(t, err)
	if !reflect.DeepEqual(g.Permissions, []string{"live", "playback", "export"}) {
		t.Fatalf("GetGrant = %+v", g)
	}
	list, err := d.ListGrantsForUser(ctx, "g-u")
	must(t, err)
	if len(list) != 2 || list[0].CameraID != "g-cam1" || len(list[0].Permissions) != 0 || list[1].CameraID != "g-cam2" {
		t.Fatalf("ListGrantsForUser = %+v", list)
	}
	wantErr(t, d.PutGrant(ctx, Grant{CameraID: "ghost", UserID: "g-u"}), ErrNotFound)
	wantErr(t, d.PutGrant(ctx, Grant{CameraID: "g-cam1", UserID: "ghost"}), ErrNotFound)
	must(t, d.DeleteGrant(ctx, "g-cam2", "g-u"))
	wantErr(t, d.DeleteGrant(ctx, "g-cam2", "g-u"), ErrNotFound)
	_, err = d.GetGrant(ctx, "g-cam2", "g-u")
	wantErr(t, err, ErrNotFound)
}

func testSessions(t *testing.T, d Directory) {
	ctx := ctxT(t)
	must(t, d.CreateUser(ctx, User{ID: "s-u", Email: "sess@example.com"}))
	s := Session{TokenHash: "th1", UserID: "s-u", CreatedAt: t0, ExpiresAt: t0.Add(12 * time.Hour)}
	must(t, d.CreateSession(ctx, s))
	must(t, d.CreateSession(ctx, Session{TokenHash: "th2", UserID: "s-u", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	wantErr(t, d.CreateSession(ctx, Session{TokenHash: "th1", UserID: "s-u"}), ErrConflict)
	wantErr(t, d.CreateSession(ctx, Session{TokenHash: "th3", UserID: "ghost"}), ErrNotFound)
	got, err := d.GetSession(ctx, "th1")
	must(t, err)
	if got.UserID != "s-u" || !got.CreatedAt.Equal(s.CreatedAt) || !got.ExpiresAt.Equal(s.ExpiresAt) || got.ActingOrgID != "" {
		t.Fatalf("GetSession = %+v", got)
	}
	got.ActingOrgID, got.ActingRole, got.ExpiresAt = "org-x", RoleAdmin, t0.Add(2*time.Hour)
	must(t, d.UpdateSession(ctx, got))
	again, _ := d.GetSession(ctx, "th1")
	if again.ActingOrgID != "org-x" || again.ActingRole != RoleAdmin || !again.ExpiresAt.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("after UpdateSession: %+v", again)
	}
	wantErr(t, d.UpdateSession(ctx, Session{TokenHash: "ghost", UserID: "s-u"}), ErrNotFound)
	// th2 expires at t0+1h: expired at t0+90m; th1 (t0+2h) is not.
	n, err := d.DeleteExpiredSessions(ctx, t0.Add(90*time.Minute))
	must(t, err)
	if n != 1 {
		t.Fatalf("DeleteExpiredSessions = %d, want 1", n)
	}
	_, err = d.GetSession(ctx, "th2")
	wantErr(t, err, ErrNotFound)
	must(t, d.DeleteSession(ctx, "th1"))
	must(t, d.DeleteSession(ctx, "th1")) // twice is fine
	_, err = d.GetSession(ctx, "th1")
	wantErr(t, err, ErrNotFound)
}

func testAPIKeys(t *testing.T, d Directory) {
	ctx := ctxT(t)
	must(t, d.CreateUser(ctx, User{ID: "k-u", Email: "keys@example.com"}))
	must(t, d.CreateUser(ctx, User{ID: "k-u2", Email: "keys2@example.com"}))
	k := APIKey{ID: "k1", UserID: "k-u", Name: "ci", Prefix: "cc_ab", Hash: "hash1", CreatedAt: t0}
	must(t, d.CreateAPIKey(ctx, k))
	must(t, d.CreateAPIKey(ctx, APIKey{ID: "k2", UserID: "k-u", Name: "nvr", Prefix: "cc_cd", Hash: "hash2", CreatedAt: t0.Add(time.Second)}))
	wantErr(t, d.CreateAPIKey(ctx, APIKey{ID: "k3", UserID: "k-u", Hash: "hash1"}), ErrConflict)
	got, err := d.GetAPIKeyByHash(ctx, "hash1")
	must(t, err)
	if got.ID != "k1" || got.Name != "ci" || got.Prefix != "cc_ab" || got.LastUsed != nil || !got.CreatedAt.Equal(t0) {
		t.Fatalf("GetAPIKeyByHash = %+v", got)
	}
	_, err = d.GetAPIKeyByHash(ctx, "nope")
	wantErr(t, err, ErrNotFound)
	used := t0.Add(time.Minute)
	must(t, d.TouchAPIKey(ctx, "k1", used))
	wantErr(t, d.TouchAPIKey(ctx, "ghost", used), ErrNotFound)
	list, err := d.ListAPIKeys(ctx, "k-u")
	must(t, err)
	if len(list) != 2 || list[0].ID != "k1" || list[0].LastUsed == nil || !list[0].LastUsed.Equal(used) || list[1].ID != "k2" {
		t.Fatalf("ListAPIKeys = %+v", list)
	}
	wantErr(t, d.DeleteAPIKey(ctx, "k-u2", "k1"), ErrNotFound) // not that user's key
	must(t, d.DeleteAPIKey(ctx, "k-u", "k1"))
	wantErr(t, d.DeleteAPIKey(ctx, "k-u", "k1"), ErrNotFound)
	list, _ = d.ListAPIKeys(ctx, "k-u")
	if len(list) != 1 || list[0].ID != "k2" {
		t.Fatalf("after delete ListAPIKeys = %+v", list)
	}
}

func testAudit(t *testing.T, d Directory, many bool) {
	ctx := ctxT(t)
	_, err := d.LastAudit(ctx)
	wantErr(t, err, ErrNotFound)
	entry := func(seq int64) AuditEntry {
		e := AuditEntry{Seq: seq, Time: t0.Add(time.Duration(seq) * time.Minute), Actor: "user-a", Address: "192.0.2.1",
			Action: "camera.update", Target: "camera/c1", OrgID: "org1", CameraID: "c1", Detail: `{"x":1}`,
			PrevHash: fmt.Sprintf("h%d", seq-1), Hash: fmt.Sprintf("h%d", seq)}
		if seq%2 == 0 {
			e.Actor, e.ActorAs, e.CameraID, e.OrgID = "user-b", "operator-1", "c2", "org2"
		}
		return e
	}
	for seq := int64(1); seq <= 6; seq++ {
		must(t, d.AppendAudit(ctx, entry(seq)))
	}
	wantErr(t, d.AppendAudit(ctx, entry(3)), ErrConflict)
	last, err := d.LastAudit(ctx)
	must(t, err)
	want := entry(6)
	if !last.Time.Equal(want.Time) {
		t.Fatalf("LastAudit time = %v, want %v", last.Time, want.Time)
	}
	last.Time = want.Time
	if last != want {
		t.Fatalf("LastAudit = %+v, want %+v", last, want)
	}
	seqs := func(es []AuditEntry) []int64 {
		var out []int64
		for _, e := range es {
			out = append(out, e.Seq)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    AuditFilter
		want []int64
	}{
		{"all", AuditFilter{}, []int64{6, 5, 4, 3, 2, 1}},
		{"actor", AuditFilter{Actor: "user-a"}, []int64{5, 3, 1}},
		{"camera", AuditFilter{CameraID: "c2"}, []int64{6, 4, 2}},
		{"time range", AuditFilter{From: t0.Add(2 * time.Minute), To: t0.Add(5 * time.Minute)}, []int64{4, 3, 2}},
		{"orgs", AuditFilter{OrgIDs: []string{"org2"}}, []int64{6, 4, 2}},
		{"no orgs", AuditFilter{OrgIDs: []string{}}, nil},
		{"limit", AuditFilter{Limit: 2}, []int64{6, 5}},
		{"combined", AuditFilter{Actor: "user-b", From: t0.Add(3 * time.Minute), Limit: 1}, []int64{6}},
	} {
		got, err := d.ListAudit(ctx, tc.f)
		must(t, err)
		if !reflect.DeepEqual(seqs(got), tc.want) {
			t.Errorf("ListAudit %s = %v, want %v", tc.name, seqs(got), tc.want)
		}
	}
	n := int64(6)
	if many {
		// Past one scan batch, to check that ScanAudit pages correctly.
		for ; n < auditScanBatch+3; n++ {
			must(t, d.AppendAudit(ctx, entry(n+1)))
		}
	}
	var scanned []int64
	must(t, d.ScanAudit(ctx, func(e AuditEntry) error { scanned = append(scanned, e.Seq); return nil }))
	if int64(len(scanned)) != n {
		t.Fatalf("ScanAudit saw %d entries, want %d", len(scanned), n)
	}
	for i, s := range scanned {
		if s != int64(i+1) {
			t.Fatalf("ScanAudit order broken at %d: %d", i, s)
		}
	}
	stop := fmt.Errorf("stop")
	count := 0
	err = d.ScanAudit(ctx, func(AuditEntry) error { count++; return stop })
	if err != stop || count != 1 {
		t.Fatalf("ScanAudit did not stop at fn's error: %v after %d", err, count)
	}
}

// testInjection stores values that would break naively built SQL and checks
// that they come back literally and match only themselves.
func testInjection(t *testing.T, d Directory) {
	ctx := ctxT(t)
	evil := []string{`x' OR '1'='1`, `'; DROP TABLE users; --`, `" OR ""="`, `\'; SELECT 1; --`, "percent % and _ underscore"}
	for i, v := range evil {
		id := fmt.Sprintf("inj-%d", i)
		must(t, d.CreateOrg(ctx, Org{ID: id, Name: v}))
		must(t, d.CreateUser(ctx, User{ID: id, Email: v + "@example.com", PasswordHash: v}))
		got, err := d.GetOrg(ctx, id)
		must(t, err)
		if got.Name != v {
			t.Errorf("org name = %q, want %q", got.Name, v)
		}
		u, err := d.GetUserByEmail(ctx, strings.ToUpper(v)+"@EXAMPLE.COM")
		must(t, err)
		if u.ID != id || u.PasswordHash != v {
			t.Errorf("user for %q = %+v", v, u)
		}
	}
	_, err := d.GetOrg(ctx, `x' OR '1'='1`)
	wantErr(t, err, ErrNotFound)
	_, err = d.GetUserByEmail(ctx, `x' OR '1'='1`)
	wantErr(t, err, ErrNotFound)
	if _, err := d.CountUsers(ctx); err != nil {
		t.Fatalf("users table damaged: %v", err)
	}
}

func testDirectoryValidation(t *testing.T, d Directory) {
	ctx := ctxT(t)
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"empty org id", d.CreateOrg(ctx, Org{Name: "n"})},
		{"long org id", d.CreateOrg(ctx, Org{ID: strings.Repeat("a", maxID+1), Name: "n"})},
		{"long email", d.CreateUser(ctx, User{ID: "v1", Email: strings.Repeat("a", maxKey) + "@x"})},
		{"bad utf8", d.CreateUser(ctx, User{ID: "v2", Email: "a\xff@example.com"})},
		{"zero seq", d.AppendAudit(ctx, AuditEntry{Action: "x"})},
		{"negative retention", d.CreateCamera(ctx, Camera{ID: "v3", OrgID: "o", Name: "n", Zone: "z", RetentionDays: -1})},
	} {
		if tc.err == nil || errors.Is(tc.err, ErrNotFound) || errors.Is(tc.err, ErrConflict) {
			t.Errorf("%s: error = %v, want a validation error", tc.name, tc.err)
		}
	}
}
