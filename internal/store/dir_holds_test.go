package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestHolds(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		d := openDir(t, dsn)
		ctx := ctxT(t)
		must(t, d.CreateOrg(ctx, Org{ID: "ho", Name: "Holders", CreatedAt: t0}))
		must(t, d.CreateOrg(ctx, Org{ID: "ho2", Name: "Others", CreatedAt: t0}))
		for _, c := range []Camera{
			{ID: "hc1", OrgID: "ho", Name: "one", Zone: "z1", SourceType: "push", RetentionDays: 1, Recording: "continuous", CreatedAt: t0},
			{ID: "hc2", OrgID: "ho", Name: "two", Zone: "z2", SourceType: "push", RetentionDays: 1, Recording: "continuous", CreatedAt: t0},
		} {
			must(t, d.CreateCamera(ctx, c))
		}
		h := Hold{ID: "h1", OrgID: "ho", CameraID: "hc1", From: t0, To: t0.Add(time.Hour), Reason: "incident 7",
			CreatedBy: "u1", CreatedByEmail: "a@example.com", CreatedAt: t0}
		must(t, d.CreateHold(ctx, h))
		must(t, d.CreateHold(ctx, Hold{ID: "h2", OrgID: "ho", CameraID: "hc2", From: t0, To: t0.Add(time.Minute), Reason: "r", CreatedAt: t0}))
		wantErr(t, d.CreateHold(ctx, Hold{ID: "h3", OrgID: "ho2", CameraID: "hc1", From: t0, To: t0.Add(time.Minute), Reason: "r"}), ErrNotFound)
		wantErr(t, d.CreateHold(ctx, Hold{ID: "h3", OrgID: "ho", CameraID: "gone", From: t0, To: t0.Add(time.Minute), Reason: "r"}), ErrNotFound)
		if err := d.CreateHold(ctx, Hold{ID: "h3", OrgID: "ho", CameraID: "hc1", From: t0, To: t0, Reason: "r"}); err == nil {
			t.Fatal("an empty range was stored")
		}

		list, err := d.ListHolds(ctx, []string{"hc1"})
		must(t, err)
		if len(list) != 1 || list[0].ID != "h1" || !list[0].From.Equal(t0) || !list[0].To.Equal(h.To) || list[0].Reason != h.Reason ||
			list[0].CreatedByEmail != h.CreatedByEmail {
			t.Fatalf("ListHolds = %+v", list)
		}
		zl, err := d.ListZoneHolds(ctx, "z2")
		must(t, err)
		if len(zl) != 1 || zl[0].ID != "h2" {
			t.Fatalf("ListZoneHolds(z2) = %+v", zl)
		}

		// A held camera cannot be deleted; the refusal names the hold.
		err = d.DeleteCamera(ctx, "hc1")
		var he *HeldError
		if !errors.As(err, &he) || len(he.Holds) != 1 || he.Holds[0].ID != "h1" {
			t.Fatalf("DeleteCamera of a held camera = %v", err)
		}
		if _, err := d.GetCamera(ctx, "hc1"); err != nil {
			t.Fatalf("held camera gone: %v", err)
		}
		_, err = d.DeleteHold(ctx, "hc2", "h1") // another camera's hold
		wantErr(t, err, ErrNotFound)
		got, err := d.DeleteHold(ctx, "hc1", "h1")
		must(t, err)
		if got.Reason != "incident 7" {
			t.Fatalf("DeleteHold returned %+v", got)
		}
		must(t, d.DeleteCamera(ctx, "hc1"))

		// The bound per camera holds under concurrent creation.
		var wg sync.WaitGroup
		errs := make([]error, MaxHoldsPerCamera+5)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = d.CreateHold(ctx, Hold{ID: fmt.Sprintf("many%d", i), OrgID: "ho", CameraID: "hc2", From: t0, To: t0.Add(time.Second), Reason: "r"})
			}()
		}
		wg.Wait()
		limited := 0
		for _, err := range errs {
			if errors.Is(err, ErrLimit) {
				limited++
			} else if err != nil && !errors.Is(err, ErrConflict) {
				// MySQL may answer a deadlock under contention; nothing else.
				t.Logf("CreateHold: %v", err)
			}
		}
		n, err := d.ListHolds(ctx, []string{"hc2"})
		must(t, err)
		if len(n) > MaxHoldsPerCamera || limited == 0 {
			t.Fatalf("%d holds stored, %d refused for the limit", len(n), limited)
		}

		// Quota and storage per zone.
		old, err := d.SetOrgQuota(ctx, "ho", 1<<30)
		must(t, err)
		if old != 0 {
			t.Fatalf("old quota %d", old)
		}
		o, err := d.GetOrg(ctx, "ho")
		must(t, err)
		if o.StorageQuotaBytes != 1<<30 {
			t.Fatalf("quota = %d", o.StorageQuotaBytes)
		}
		if _, err := d.SetOrgQuota(ctx, "nope", 1); !errors.Is(err, ErrNotFound) {
			t.Fatalf("quota of a missing org: %v", err)
		}
		must(t, d.PutOrgStorage(ctx, OrgStorage{OrgID: "ho", Zone: "z1", Bytes: 10, Segments: 1, Oldest: t0, UpdatedAt: t0}))
		must(t, d.PutOrgStorage(ctx, OrgStorage{OrgID: "ho", Zone: "z1", Bytes: 20, Segments: 2, Oldest: t0, UpdatedAt: t0}))
		must(t, d.PutOrgStorage(ctx, OrgStorage{OrgID: "ho", Zone: "z2", Bytes: 5, Segments: 1, UpdatedAt: t0}))
		st, err := d.ListOrgStorage(ctx, "ho")
		must(t, err)
		if len(st) != 2 || st[0].Bytes != 20 || st[0].Zone != "z1" || !st[0].Oldest.Equal(t0) || !st[1].Oldest.IsZero() {
			t.Fatalf("ListOrgStorage = %+v", st)
		}
	})
}
