package store

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/coltags"
)

// TestEveryColumnTagged migrates new directory and zone databases on both
// engines and checks that every table and column they hold has tags in
// the policy (tags.go), that every tag is known, and that the policy names
// nothing the schema lacks: a migration that adds a column without its
// tags fails here, so nothing new is exported (or leaks) by default.
func TestEveryColumnTagged(t *testing.T) {
	for _, s := range []struct {
		scope  string
		policy Policy
		open   func(t *testing.T, dsn string) Snapshotter
	}{
		{"directory", DirectoryPolicy(), func(t *testing.T, dsn string) Snapshotter { return openDir(t, dsn).(Snapshotter) }},
		{"zone", ZonePolicy(), func(t *testing.T, dsn string) Snapshotter { return openZone(t, dsn).(Snapshotter) }},
	} {
		t.Run(s.scope, func(t *testing.T) {
			forEngines(t, func(t *testing.T, dsn string) {
				for _, p := range checkPolicy(s.scope, s.policy, schemaTables(t, s.open(t, dsn))) {
					t.Error(p)
				}
			})
		})
	}
}

// TestUntaggedColumnFails shows that the check names a column a migration
// added without tags, and a table without any.
func TestUntaggedColumnFails(t *testing.T) {
	tables := schemaTables(t, openZone(t, sqliteDSN(t)).(Snapshotter))
	tables[0].Columns = append(tables[0].Columns, ColumnInfo{Name: "untagged_column", Kind: KindText})
	tables = append(tables, TableInfo{Name: "untagged_table", Columns: []ColumnInfo{{Name: "org_id"}}})
	got := strings.Join(checkPolicy("zone", ZonePolicy(), tables), "\n")
	for _, want := range []string{
		fmt.Sprintf("zone table %s column untagged_column has no tags", tables[0].Name),
		"zone table untagged_table has no tags",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems %q do not say %q", got, want)
		}
	}
}

// schemaTables lists the tables of r's database.
func schemaTables(t *testing.T, r Snapshotter) []TableInfo {
	t.Helper()
	snap, err := r.BeginSnapshot(ctxT(t))
	must(t, err)
	defer snap.Close()
	tables, err := snap.Tables(ctxT(t))
	must(t, err)
	return tables
}

// checkPolicy returns what is wrong between the tables of a schema and its
// tag policy, each problem naming the table and column and what to do.
func checkPolicy(scope string, p Policy, tables []TableInfo) []string {
	var out []string
	where := "add it to " + scope + "Policy in internal/store/tags.go"
	seen := map[string]bool{}
	for _, tb := range tables {
		seen[tb.Name] = true
		tp, ok := p[tb.Name]
		if !ok {
			out = append(out, fmt.Sprintf("%s table %s has no tags: %s", scope, tb.Name, where))
			continue
		}
		if len(tp.Tags) == 0 {
			out = append(out, fmt.Sprintf("%s table %s has no table tags", scope, tb.Name))
		}
		cols := map[string]bool{}
		for _, c := range tb.Columns {
			cols[c.Name] = true
			if len(tp.Columns[c.Name]) == 0 {
				out = append(out, fmt.Sprintf("%s table %s column %s has no tags: %s", scope, tb.Name, c.Name, where))
			}
		}
		for c, ts := range tp.Columns {
			if !cols[c] {
				out = append(out, fmt.Sprintf("%s table %s has tags for column %s, which no migration makes", scope, tb.Name, c))
			}
			for _, tag := range slices.Concat(tp.Tags, ts) {
				if !coltags.IsKnown(tag) {
					out = append(out, fmt.Sprintf("%s table %s column %s: unknown tag %q", scope, tb.Name, c, tag))
				}
			}
		}
		if tp.Append != "" && !cols[tp.Append] {
			out = append(out, fmt.Sprintf("%s table %s: append column %s does not exist", scope, tb.Name, tp.Append))
		}
	}
	for name := range p {
		if !seen[name] {
			out = append(out, fmt.Sprintf("%s policy has tags for table %s, which no migration makes", scope, name))
		}
	}
	slices.Sort(out)
	return out
}

// TestSnapshotIsConsistent checks that a snapshot keeps seeing the database
// as it was when it was opened while another connection writes.
func TestSnapshotIsConsistent(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		ctx := ctxT(t)
		z := openZone(t, dsn)
		seg := func(i int) Segment {
			return Segment{CameraID: "cam", Start: t0.Add(time.Duration(i) * time.Minute), End: t0.Add(time.Duration(i+1) * time.Minute),
				Size: 10, Key: "k", InitKey: "i", Codec: "h264"}
		}
		must(t, z.InsertSegment(ctx, seg(0)))
		snap, err := z.(Snapshotter).BeginSnapshot(ctx)
		must(t, err)
		defer snap.Close()
		must(t, z.InsertSegment(ctx, seg(1)))
		n, err := snap.Count(ctx, "segments", Range{})
		must(t, err)
		var scanned int
		tables, err := snap.Tables(ctx)
		must(t, err)
		i := slices.IndexFunc(tables, func(t TableInfo) bool { return t.Name == "segments" })
		must(t, snap.Scan(ctx, "segments", tables[i].Columns, Range{}, func([]any) error { scanned++; return nil }))
		if n != 1 || scanned != 1 {
			t.Fatalf("snapshot counts %d and scans %d segments, want the 1 there when it was opened", n, scanned)
		}
		mx, err := snap.Max(ctx, "segments", "end_us")
		must(t, err)
		if want := toMicros(seg(0).End); mx != want {
			t.Fatalf("max end_us = %d, want %d", mx, want)
		}
	})
}

// TestJobLock: a second holder of a job lock is refused until the first
// lets go (MySQL, where several api nodes share the database).
func TestJobLock(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		ctx := ctxT(t)
		a, b := openDir(t, dsn).(JobLocker), openDir(t, dsn).(JobLocker)
		unlock, ok, err := a.TryJobLock(ctx, "export")
		must(t, err)
		if !ok {
			t.Fatal("a free lock was refused")
		}
		if strings.Contains(dsn, "mysql") {
			_, ok, err := b.TryJobLock(ctx, "export")
			must(t, err)
			if ok {
				t.Fatal("a held lock was granted to a second process")
			}
		}
		unlock()
		unlock2, ok, err := b.TryJobLock(ctx, "export")
		must(t, err)
		if !ok {
			t.Fatal("a released lock was refused")
		}
		unlock2()
	})
}
