package store

import (
	"fmt"
	"testing"
	"time"
)

func newExport(org string, n int) Export {
	return Export{ID: fmt.Sprintf("%032x", n+1), OrgID: org, CameraID: "cam1", Zone: "local", From: t0, To: t0.Add(time.Minute),
		Evidence: true, State: ExportQueued, AuditSeq: 7, CreatedBy: "u1", CreatedEmail: "u@example.com", CreatedAt: t0.Add(time.Duration(n) * time.Second), UpdatedAt: t0}
}

// TestExportJobs: the per-organisation bound, the evidence key stored
// once, claims by one node at a time, fenced saves, takeover after a
// lease expires, expiry.
func TestExportJobs(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		d, ctx := openDir(t, dsn), ctxT(t)
		must(t, d.CreateOrg(ctx, Org{ID: "o1", Name: "one", CreatedAt: t0}))
		must(t, d.CreateOrg(ctx, Org{ID: "o2", Name: "two", CreatedAt: t0}))

		k, err := d.AddEvidenceKey(ctx, EvidenceKey{ID: "evidence", PublicKey: "pub1", PrivateSealed: "enc:v1:a", CreatedAt: t0})
		must(t, err)
		k2, err := d.AddEvidenceKey(ctx, EvidenceKey{ID: "evidence", PublicKey: "pub2", PrivateSealed: "enc:v1:b", CreatedAt: t0})
		must(t, err)
		if k.PublicKey != "pub1" || k2.PublicKey != "pub1" {
			t.Fatalf("a second key replaced the first: %+v %+v", k, k2)
		}

		must(t, d.CreateExport(ctx, newExport("o1", 0), 2))
		must(t, d.CreateExport(ctx, newExport("o1", 1), 2))
		wantErr(t, d.CreateExport(ctx, newExport("o1", 2), 2), ErrLimit)
		must(t, d.CreateExport(ctx, newExport("o2", 3), 2)) // another organisation is not counted

		now := t0.Add(time.Hour)
		a, ok, err := d.ClaimExport(ctx, "node-a", now.Add(30*time.Second), now)
		must(t, err)
		if !ok || a.ID != newExport("o1", 0).ID || a.Attempts != 1 || a.LeaseOwner != "node-a" {
			t.Fatalf("first claim %+v %v", a, ok)
		}
		b, ok, err := d.ClaimExport(ctx, "node-b", now.Add(30*time.Second), now)
		must(t, err)
		if !ok || b.ID == a.ID {
			t.Fatalf("node-b claimed %q (node-a holds %q)", b.ID, a.ID)
		}
		// node-b may not save node-a's job.
		a.State, a.Progress = ExportRunning, 500
		wantErr(t, d.SaveExport(ctx, a, "node-b", now.Add(time.Minute)), ErrNotFound)
		must(t, d.SaveExport(ctx, a, "node-a", now.Add(30*time.Second)))
		// node-a dies; after its lease node-c takes the job over.
		later := now.Add(31 * time.Second)
		var took []string
		for {
			c, ok, err := d.ClaimExport(ctx, "node-c", later.Add(30*time.Second), later)
			must(t, err)
			if !ok {
				break
			}
			took = append(took, c.ID)
			if c.ID == a.ID && (c.Attempts != 2 || c.Progress != 500 || c.State != ExportRunning) {
				t.Errorf("taken over %+v", c)
			}
		}
		if len(took) != 3 {
			t.Fatalf("node-c took %v, want the three jobs whose leases expired", took)
		}
		wantErr(t, d.SaveExport(ctx, a, "node-a", later), ErrNotFound) // fenced: node-a came back too late
		a.State, a.ExpiresAt = ExportReady, later.Add(time.Hour)
		must(t, d.SaveExport(ctx, a, "node-c", time.Time{}))
		got, err := d.GetExport(ctx, a.ID)
		must(t, err)
		if got.State != ExportReady || got.LeaseOwner != "" {
			t.Fatalf("after release %+v", got)
		}
		list, err := d.ListExports(ctx, "cam1", 10)
		must(t, err)
		if len(list) != 3 || list[0].ID != newExport("o2", 3).ID {
			t.Fatalf("list %d, first %s", len(list), list[0].ID)
		}
		exp, err := d.ExpiredExports(ctx, later.Add(2*time.Hour), 10)
		must(t, err)
		if len(exp) != 1 || exp[0].ID != a.ID {
			t.Fatalf("expired %+v", exp)
		}
		must(t, d.DeleteExport(ctx, a.ID))
		wantErr(t, d.DeleteExport(ctx, a.ID), ErrNotFound)
	})
}

// TestBookmarks: range overlap, text search (case-insensitive, LIKE's
// wildcards taken literally), deletion per camera.
func TestBookmarks(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		z, ctx := openZone(t, dsn), ctxT(t)
		add := func(id, cam, name, note string, start, end time.Duration) {
			t.Helper()
			b := Bookmark{ID: id, CameraID: cam, OrgID: "o1", Name: name, Note: note, Start: t0.Add(start), CreatedAt: t0}
			if end != 0 {
				b.End = t0.Add(end)
			}
			must(t, z.AddBookmark(ctx, b))
		}
		add("b1", "c1", "Forklift tipped over", "aisle 4", 10*time.Second, 0)
		add("b2", "c1", "Delivery", "truck at 100% load", time.Minute, 3*time.Minute)
		add("b3", "c1", "late", "", time.Hour, 0)
		add("b4", "c2", "forklift elsewhere", "", 10*time.Second, 0)
		ids := func(from, to time.Duration, q string) string {
			t.Helper()
			list, err := z.ListBookmarks(ctx, "c1", t0.Add(from), t0.Add(to), q, 0)
			must(t, err)
			s := ""
			for _, b := range list {
				s += b.ID + " "
			}
			return s
		}
		for _, c := range []struct {
			from, to time.Duration
			q, want  string
		}{
			{0, 2 * time.Hour, "", "b1 b2 b3 "},
			{2 * time.Minute, 10 * time.Minute, "", "b2 "}, // inside the range of b2
			{0, 5 * time.Second, "", ""},
			{0, 2 * time.Hour, "FORKLIFT", "b1 "},
			{0, 2 * time.Hour, "aisle", "b1 "},
			{0, 2 * time.Hour, "100%", "b2 "},
			{0, 2 * time.Hour, "%", "b2 "},
			{0, 2 * time.Hour, "_", ""},
		} {
			if got := ids(c.from, c.to, c.q); got != c.want {
				t.Errorf("%v..%v q=%q: %q, want %q", c.from, c.to, c.q, got, c.want)
			}
		}
		wantErr(t, z.DeleteBookmark(ctx, "c2", "b1"), ErrNotFound) // another camera's id
		must(t, z.DeleteBookmark(ctx, "c1", "b1"))
		if got := ids(0, time.Hour, "forklift"); got != "" {
			t.Errorf("after delete: %q", got)
		}
		// Retention: what ended before the cutoff goes (b2's range ends at 3 min).
		n, err := z.DeleteBookmarks(ctx, "c1", t0.Add(2*time.Minute))
		must(t, err)
		if got := ids(0, 2*time.Hour, ""); n != 0 || got != "b2 b3 " {
			t.Errorf("cutoff inside b2's range: deleted %d, left %q", n, got)
		}
		n, err = z.DeleteBookmarks(ctx, "c1", t0.Add(30*time.Minute))
		must(t, err)
		if got := ids(0, 2*time.Hour, ""); n != 1 || got != "b3 " {
			t.Errorf("cutoff after b2: deleted %d, left %q", n, got)
		}
		cams, err := z.BookmarkCameras(ctx)
		must(t, err)
		if len(cams) != 2 || cams[0] != "c1" || cams[1] != "c2" {
			t.Errorf("cameras with bookmarks %v", cams)
		}
	})
}
