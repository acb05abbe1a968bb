package store

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// newSite returns a valid site of orgID numbered n with a pending
// enrolment whose hash is "enrol-n".
func newSite(orgID string, n int) Site {
	return Site{ID: fmt.Sprintf("%032x", n+1), OrgID: orgID, Name: fmt.Sprintf("site %d", n), EnrolHash: fmt.Sprintf("enrol-%d", n),
		EnrolUntil: t0.Add(time.Hour), CreatedBy: "u1", CreatedAt: t0}
}

func TestSites(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		d, ctx := openDir(t, dsn), ctxT(t)
		must(t, d.CreateOrg(ctx, Org{ID: "o1", Name: "one", CreatedAt: t0}))
		must(t, d.CreateOrg(ctx, Org{ID: "o2", Name: "two", CreatedAt: t0}))
		s := newSite("o1", 0)
		must(t, d.CreateSite(ctx, s))
		must(t, d.CreateSite(ctx, newSite("o2", 1)))
		wantErr(t, d.CreateSite(ctx, newSite("nope", 2)), ErrNotFound)
		got, err := d.GetSite(ctx, s.ID)
		must(t, err)
		if got.Name != s.Name || got.OrgID != "o1" || !got.EnrolUntil.Equal(s.EnrolUntil) || got.CredHash != "" {
			t.Fatalf("got %+v", got)
		}
		list, err := d.ListSites(ctx, []string{"o1"})
		must(t, err)
		all, err := d.ListSites(ctx, nil)
		must(t, err)
		none, err := d.ListSites(ctx, []string{})
		must(t, err)
		if len(list) != 1 || len(all) != 2 || len(none) != 0 {
			t.Fatalf("listed %d, %d and %d", len(list), len(all), len(none))
		}

		// Enrolment: an expired token, a wrong one, then the right one,
		// which works once even when two agents race.
		_, err = d.EnrolSite(ctx, "enrol-0", "cred-a", t0.Add(2*time.Hour))
		wantErr(t, err, ErrNotFound)
		_, err = d.EnrolSite(ctx, "enrol-9", "cred-a", t0)
		wantErr(t, err, ErrNotFound)
		var wg sync.WaitGroup
		wins := make(chan string, 4)
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := d.EnrolSite(ctx, "enrol-0", fmt.Sprint("cred-", i), t0.Add(time.Minute)); err == nil {
					wins <- fmt.Sprint("cred-", i)
				}
			}()
		}
		wg.Wait()
		close(wins)
		var cred []string
		for c := range wins {
			cred = append(cred, c)
		}
		if len(cred) != 1 {
			t.Fatalf("%d enrolments with one token", len(cred))
		}
		got, err = d.SiteByCredential(ctx, cred[0])
		must(t, err)
		if got.ID != s.ID || got.EnrolHash != "" || !got.EnrolledAt.Equal(t0.Add(time.Minute)) {
			t.Fatalf("enrolled %+v", got)
		}
		wantErr(t, func() error { _, err := d.SiteByCredential(ctx, ""); return err }(), ErrNotFound)

		// Status is fenced on the credential.
		st := SiteStatus{LastSeen: t0.Add(2 * time.Minute), AgentVersion: "v1", BufferUsed: 10, BufferMax: 100, Backlog: 90 * time.Second,
			BacklogBytes: 5, UploadBPS: 8000}
		must(t, d.PutSiteStatus(ctx, s.ID, cred[0], st))
		wantErr(t, d.PutSiteStatus(ctx, s.ID, "cred-other", st), ErrNotFound)
		if err := d.PutSiteStatus(ctx, s.ID, cred[0], SiteStatus{BufferUsed: -1}); err == nil {
			t.Fatal("a negative buffer size was stored")
		}
		got, _ = d.GetSite(ctx, s.ID)
		if gs := got.Status; !gs.LastSeen.Equal(st.LastSeen) || gs.BufferUsed != 10 || gs.BufferMax != 100 || gs.Backlog != st.Backlog ||
			gs.BacklogBytes != 5 || gs.UploadBPS != 8000 || gs.AgentVersion != "v1" {
			t.Fatalf("status %+v, want %+v", got.Status, st)
		}

		// Revocation through ModifySite: the credential is gone at once.
		_, after, err := d.ModifySite(ctx, s.ID, func(x *Site) error { x.CredHash, x.RevokedAt = "", t0.Add(3*time.Minute); return nil })
		must(t, err)
		if after.CredHash != "" {
			t.Fatalf("after %+v", after)
		}
		wantErr(t, func() error { _, err := d.SiteByCredential(ctx, cred[0]); return err }(), ErrNotFound)
		wantErr(t, d.PutSiteStatus(ctx, s.ID, cred[0], st), ErrNotFound)
		if _, _, err := d.ModifySite(ctx, s.ID, func(x *Site) error { x.OrgID = "o2"; return nil }); err == nil {
			t.Fatal("a site moved to another organisation")
		}
		wantErr(t, func() error { _, _, err := d.ModifySite(ctx, "nope", func(*Site) error { return nil }); return err }(), ErrNotFound)

		// A camera belongs to a site.
		cam := Camera{ID: "c1", OrgID: "o1", Name: "cam", Zone: "z", SourceType: "push", Recording: "continuous", CreatedAt: t0, SiteID: s.ID}
		must(t, d.CreateCamera(ctx, cam))
		must(t, d.CreateCamera(ctx, Camera{ID: "c2", OrgID: "o1", Name: "cam2", Zone: "z", SourceType: "push", Recording: "continuous", CreatedAt: t0}))
		cams, err := d.ListCamerasBySite(ctx, s.ID)
		must(t, err)
		if len(cams) != 1 || cams[0].ID != "c1" || cams[0].SiteID != s.ID {
			t.Fatalf("site cameras %+v", cams)
		}
		_, c2, err := d.ModifyCamera(ctx, "c2", func(c *Camera) error { c.SiteID = s.ID; return nil })
		must(t, err)
		if c2.SiteID != s.ID {
			t.Fatalf("c2 %+v", c2)
		}

		// Revoking a credential is a change of the site's cameras to the
		// camera servers of their zone; other changes of a site are not.
		_, _, err = d.ModifySite(ctx, s.ID, func(x *Site) error { x.CredHash = "cred-z"; return nil })
		must(t, err)
		tok, err := d.CameraChanges(ctx, "z")
		must(t, err)
		_, _, err = d.ModifySite(ctx, s.ID, func(x *Site) error { x.Name = "renamed"; return nil })
		must(t, err)
		if now, _ := d.CameraChanges(ctx, "z"); now != tok {
			t.Fatal("renaming a site changed its cameras' zone token")
		}
		_, _, err = d.ModifySite(ctx, s.ID, func(x *Site) error { x.CredHash = ""; return nil })
		must(t, err)
		if now, _ := d.CameraChanges(ctx, "z"); now == tok {
			t.Fatal("revoking a site left its cameras' zone token as it was")
		}
	})
}
