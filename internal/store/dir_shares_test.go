package store

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// newShare returns a valid link of camera cam of org numbered n.
func newShare(org, cam string, n int) Share {
	return Share{ID: fmt.Sprintf("%032x", n+1), OrgID: org, CameraID: cam, From: t0, To: t0.Add(5 * time.Minute),
		TokenHash: fmt.Sprintf("hash-%d", n), CreatedBy: "u1", CreatedByEmail: "u1@example.com", CreatedAt: t0, Expires: t0.Add(time.Hour)}
}

func TestShares(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		d, ctx := openDir(t, dsn), ctxT(t)
		must(t, d.CreateOrg(ctx, Org{ID: "o1", Name: "one", CreatedAt: t0}))
		must(t, d.CreateOrg(ctx, Org{ID: "o2", Name: "two", CreatedAt: t0}))
		must(t, d.CreateCamera(ctx, Camera{ID: "c1", OrgID: "o1", Name: "gate", Zone: "z", SourceType: "push", RetentionDays: 1, Recording: "continuous", CreatedAt: t0}))
		must(t, d.CreateCamera(ctx, Camera{ID: "c2", OrgID: "o2", Name: "yard", Zone: "z", SourceType: "push", RetentionDays: 1, Recording: "continuous", CreatedAt: t0}))
		s := newShare("o1", "c1", 0)
		s.PasswordHash, s.AllowDownload, s.MaxViews, s.Note = "$argon2id$x", true, 2, "for the police"
		must(t, d.CreateShare(ctx, s))
		wantErr(t, d.CreateShare(ctx, s), ErrConflict)
		got, err := d.GetShareByToken(ctx, s.TokenHash)
		must(t, err)
		if got.ID != s.ID || !got.From.Equal(t0) || !got.To.Equal(s.To) || !got.AllowDownload || got.MaxViews != 2 || got.Note != s.Note ||
			got.PasswordHash != s.PasswordHash || !got.Expires.Equal(s.Expires) || got.Live || !got.Revoked.IsZero() {
			t.Fatalf("got %+v", got)
		}
		live := newShare("o2", "c2", 1)
		live.Live, live.From, live.To = true, time.Time{}, time.Time{}
		must(t, d.CreateShare(ctx, live))
		bad := newShare("o1", "c1", 2)
		bad.To = bad.From
		if err := d.CreateShare(ctx, bad); err == nil {
			t.Fatal("an empty range was stored")
		}
		wantErr(t, d.CreateShare(ctx, newShare("o1", "nope", 3)), ErrNotFound)

		list, err := d.ListShares(ctx, []string{"o1"}, 100)
		must(t, err)
		if len(list) != 1 || list[0].ID != s.ID {
			t.Fatalf("org o1 lists %+v", list)
		}
		if list, _ := d.ListShares(ctx, []string{"o1", "o2"}, 100); len(list) != 2 {
			t.Fatalf("both orgs list %d", len(list))
		}

		// Views: counted while under the limit, never past it, even at once.
		var ok atomic.Int32
		var wg sync.WaitGroup
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if v, err := d.UseShareView(ctx, s.ID, t0.Add(time.Minute)); err == nil && v {
					ok.Add(1)
				}
			}()
		}
		wg.Wait()
		if got, _ := d.GetShare(ctx, s.ID); ok.Load() != 2 || got.Views != 2 {
			t.Fatalf("%d openings counted, views %d, want 2 of max 2", ok.Load(), got.Views)
		}
		if v, _ := d.UseShareView(ctx, live.ID, live.Expires); v {
			t.Fatal("an expired link was opened")
		}
		first, err := d.RevokeShare(ctx, live.ID, "admin@example.com", t0.Add(time.Minute))
		must(t, err)
		again, err := d.RevokeShare(ctx, live.ID, "admin@example.com", t0.Add(2*time.Minute))
		must(t, err)
		if !first || again {
			t.Fatalf("revoke: first %t, again %t", first, again)
		}
		if v, _ := d.UseShareView(ctx, live.ID, t0.Add(3*time.Minute)); v {
			t.Fatal("a revoked link was opened")
		}
		if got, _ := d.GetShare(ctx, live.ID); !got.Revoked.Equal(t0.Add(time.Minute)) || got.RevokedBy != "admin@example.com" {
			t.Fatalf("revoked %+v", got)
		}
		if _, err := d.RevokeShare(ctx, "missing", "x", t0); err == nil {
			t.Fatal("revoking a missing link succeeded")
		}

		// A link dies with its camera.
		must(t, d.DeleteCamera(ctx, "c1"))
		_, err = d.GetShare(ctx, s.ID)
		wantErr(t, err, ErrNotFound)
	})
}

func TestSharesLimitAndPurge(t *testing.T) {
	d, ctx := openDir(t, sqliteDSN(t)), ctxT(t)
	must(t, d.CreateOrg(ctx, Org{ID: "o1", Name: "one", CreatedAt: t0}))
	must(t, d.CreateCamera(ctx, Camera{ID: "c1", OrgID: "o1", Name: "gate", Zone: "z", SourceType: "push", RetentionDays: 1, Recording: "continuous", CreatedAt: t0}))
	// The first links in one transaction (1000 of them one by one take a
	// minute on a loaded machine), the last through CreateShare.
	tx, err := d.(*directory).db.BeginTx(ctx, nil)
	must(t, err)
	for i := range MaxSharesPerOrg - 1 {
		s := newShare("o1", "c1", i)
		_, err := tx.ExecContext(ctx, "INSERT INTO shares ("+shareCols+") VALUES ("+placeholders(18)+")",
			s.ID, s.OrgID, s.CameraID, false, toMicros(s.From), toMicros(s.To), s.TokenHash, "", false,
			0, 0, "", s.CreatedBy, s.CreatedByEmail, toMicros(s.CreatedAt), toMicros(s.Expires), 0, "")
		must(t, err)
	}
	must(t, tx.Commit())
	must(t, d.CreateShare(ctx, newShare("o1", "c1", MaxSharesPerOrg-1)))
	wantErr(t, d.CreateShare(ctx, newShare("o1", "c1", MaxSharesPerOrg)), ErrLimit)
	// Once they have expired they no longer count; ShareKeep after, they go.
	later := newShare("o1", "c1", MaxSharesPerOrg+1)
	later.CreatedAt, later.Expires = t0.Add(2*time.Hour), t0.Add(3*time.Hour)
	must(t, d.CreateShare(ctx, later))
	purge := newShare("o1", "c1", MaxSharesPerOrg+2)
	purge.CreatedAt, purge.Expires = t0.Add(ShareKeep+2*time.Hour), t0.Add(ShareKeep+3*time.Hour)
	must(t, d.CreateShare(ctx, purge))
	list, err := d.ListShares(ctx, []string{"o1"}, 2*MaxSharesPerOrg)
	must(t, err)
	if len(list) != 2 {
		t.Fatalf("after the purge %d links are left, want 2", len(list))
	}
}
