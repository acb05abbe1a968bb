package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/app"
	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/coltags"
	"github.com/camcloud/camcloud/internal/config"
	"github.com/camcloud/camcloud/internal/dataexport"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/testenv"
)

// exportGrants are the audiences of the test deployment.
var exportGrants = map[string][2][]string{
	"analytics": {{coltags.Camera, coltags.Recording, coltags.Events, coltags.Usage, coltags.Ops, coltags.Content}, {coltags.ID}},
	"support":   {{coltags.Account, coltags.Camera, coltags.PII, coltags.Security, coltags.Ops, coltags.Content, coltags.ID}, nil},
}

// TestDataExportMariaDBDuckDB exports a deployment of the directory and
// two zones on MariaDB with `camcloud data export`, twice, and reads the
// files back with DuckDB: each audience's files hold exactly the columns
// its grant allows, no secret column (nor a seeded secret value) is in any
// file, row counts match the databases, and pseudonyms are the same in
// both runs and join the segment index of both zones to the cameras of
// the directory.
func TestDataExportMariaDBDuckDB(t *testing.T) {
	duck := testenv.DuckDB(t)
	dsns := testenv.MySQLDatabases(t, "exdir", "exza", "exzb")
	ctx := context.Background()
	tmp := t.TempDir()
	out := filepath.Join(tmp, "out")
	var y strings.Builder
	fmt.Fprintf(&y, "data_dir: %s\ndirectory: %q\nzone: za\nzones:\n  - {name: za, db: %q}\n  - {name: zb, db: %q}\nexport:\n  audiences:\n", filepath.Join(tmp, "data"), dsns[0], dsns[1], dsns[2])
	for _, name := range []string{"analytics", "support"} {
		g := exportGrants[name]
		fmt.Fprintf(&y, "    - name: %s\n      clear: [%s]\n      store: {type: local, dir: %s}\n", name, strings.Join(g[0], ", "), filepath.Join(out, name))
		if len(g[1]) > 0 {
			fmt.Fprintf(&y, "      pseudonymise: [%s]\n      key: %s-pseudonym-key-0123456789abcdef\n", strings.Join(g[1], ", "), name)
		}
	}
	cfgFile := filepath.Join(tmp, "camcloud.yaml")
	if err := os.WriteFile(cfgFile, []byte(y.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load("serve", []string{"--config", cfgFile}, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(ctx, cfg, newLogger("warn"), app.Options{Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	seedExport(t, a, 0)

	runExport := func() {
		t.Helper()
		var buf bytes.Buffer
		if code := dataCmd([]string{"export", "--config", cfgFile}, &buf); code != 0 {
			t.Fatalf("camcloud data export exited %d: %s", code, buf.String())
		}
		if !strings.Contains(buf.String(), "zone-za") || !strings.Contains(buf.String(), "segments") {
			t.Errorf("progress output %q names no table of zone za", buf.String())
		}
	}
	counts := dbCounts(t, a)
	runExport()
	m1 := checkExport(t, duck, out, counts, nil)
	pseudo1 := duckStrings(t, duck, fmt.Sprintf("SELECT DISTINCT id AS v FROM read_parquet('%s') ORDER BY 1", filepath.Join(out, "analytics", tableKey(m1["analytics"], "directory", "cameras"))))

	// Between the runs: more settled segments in zone za; the second run
	// reads only those for the segment index.
	seedExport(t, a, 1)
	counts2 := dbCounts(t, a)
	runExport()
	m2 := checkExport(t, duck, out, counts2, counts)
	pseudo2 := duckStrings(t, duck, fmt.Sprintf("SELECT DISTINCT id AS v FROM read_parquet('%s') ORDER BY 1", filepath.Join(out, "analytics", tableKey(m2["analytics"], "directory", "cameras"))))
	if !slices.Equal(pseudo1, pseudo2) || len(pseudo1) != 3 {
		t.Fatalf("pseudonymised camera ids differ between runs: %v and %v", pseudo1, pseudo2)
	}
	for _, p := range pseudo1 {
		if strings.HasPrefix(p, "cam-") || len(p) != 32 {
			t.Fatalf("camera id %q is not a pseudonym", p)
		}
	}
	// The segment index of both zones (both runs' files) joins the cameras
	// by pseudonym: every segment finds its camera.
	segs := filepath.Join(out, "analytics", "audience=analytics", "db=zone-*", "table=segments", "*", "*.parquet")
	cams := filepath.Join(out, "analytics", tableKey(m2["analytics"], "directory", "cameras"))
	res := duck(fmt.Sprintf(`SELECT s.db, count(*) AS n, count(c.id) AS joined FROM read_parquet('%s', hive_partitioning = true) s
  LEFT JOIN read_parquet('%s') c ON s.camera_id = c.id GROUP BY s.db ORDER BY s.db`, segs, cams))[0]
	want := map[string]int64{"zone-za": counts2["zone-za.segments"], "zone-zb": counts2["zone-zb.segments"]}
	if len(res) != 2 {
		t.Fatalf("segments by zone: %v", res)
	}
	for _, r := range res {
		db := r["db"].(string)
		if num(r["n"]) != want[db] || num(r["joined"]) != want[db] {
			t.Errorf("%s: %v segments, %v joined to a camera, want %d both", db, r["n"], r["joined"], want[db])
		}
	}
}

// seedExport writes organisations, users, cameras in both zones, settled
// segments, events and audit entries; round 1 adds segments in zone za.
func seedExport(t *testing.T, a *app.App, round int) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	za, err := a.Zones.Get("za")
	must(err)
	zb, err := a.Zones.Get("zb")
	must(err)
	if round == 0 {
		must(a.Dir.CreateOrg(ctx, store.Org{ID: "org-1", Name: "Acme", CreatedAt: now}))
		for i := range 3 {
			must(a.Dir.CreateUser(ctx, store.User{ID: fmt.Sprintf("user-%d", i), Email: fmt.Sprintf("u%d@example.com", i), PasswordHash: "argon2id$SECRET-PASSWORD-HASH", TOTPSecret: "SECRET-TOTP", CreatedAt: now}))
		}
		for i, z := range []string{"za", "za", "zb"} {
			must(a.Dir.CreateCamera(ctx, store.Camera{ID: fmt.Sprintf("cam-%d", i), OrgID: "org-1", Name: fmt.Sprintf("door %d", i), Zone: z, SourceType: "pull",
				SourceURL: "rtsp://admin:SECRET@10.0.0.1/", RetentionDays: 30, Recording: "continuous", IngestSecretHash: "SECRET-INGEST", CreatedAt: now}))
		}
		_, err := a.Audit.Record(ctx, store.AuditEntry{Actor: "user:user-0", Address: "192.0.2.1", Action: "camera.create", OrgID: "org-1", CameraID: "cam-0"})
		must(err)
	}
	for i, z := range []*struct {
		db  store.Zone
		cam string
		n   int
	}{{za.DB, "cam-0", 50}, {za.DB, "cam-1", 30}, {zb.DB, "cam-2", 40}} {
		if round == 1 && i > 0 {
			continue
		}
		for j := range z.n {
			s := now.Add(-5*time.Hour + time.Duration(round*z.n+j)*time.Minute)
			must(z.db.InsertSegment(ctx, store.Segment{CameraID: z.cam, Start: s, End: s.Add(time.Minute), Size: 1 << 20, Key: "obj", InitKey: "init", Codec: "avc1"}))
		}
		if round == 0 {
			_, err := z.db.InsertEvent(ctx, store.Event{ID: "ev-" + z.cam, CameraID: z.cam, OrgID: "org-1", Type: "motion", Start: now.Add(-4 * time.Hour), Source: "system"})
			must(err)
		}
	}
}

// dbCounts counts the rows of every table of every database, keyed
// "db.table".
func dbCounts(t *testing.T, a *app.App) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	e, err := a.DataExporter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, s := range e.Sources {
		snap, err := s.Repo.BeginSnapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tables, err := snap.Tables(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tb := range tables {
			n, err := snap.Count(ctx, tb.Name, store.Range{})
			if err != nil {
				t.Fatal(err)
			}
			out[s.DB+"."+tb.Name] = n
		}
		snap.Close()
	}
	return out
}

// checkExport reads each audience's latest manifest and checks every file
// it names with DuckDB: exactly the allowed columns, the row count of the
// manifest, of the database (full tables) or of what was added since prev
// (incremental ones); and that no file under out has a secret column.
func checkExport(t *testing.T, duck func(...string) [][]map[string]any, out string, counts, prev map[string]int64) map[string]*dataexport.Manifest {
	t.Helper()
	ms := map[string]*dataexport.Manifest{}
	policies := map[string]store.Policy{"directory": store.DirectoryPolicy(), "zone-za": store.ZonePolicy(), "zone-zb": store.ZonePolicy()}
	for name, g := range exportGrants {
		bs, err := blob.NewLocal(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		m, err := dataexport.ReadLatest(context.Background(), bs, name)
		if err != nil || m == nil {
			t.Fatalf("%s: manifest %v, %v", name, m, err)
		}
		ms[name] = m
		seen := map[string]bool{}
		for _, tf := range m.Tables {
			id := tf.DB + "." + tf.Table
			seen[id] = true
			tp := policies[tf.DB][tf.Table]
			var want []string
			for c := range tp.Columns {
				if allowed(tp.ColumnTags(c), g[0], g[1]) {
					want = append(want, c)
				}
			}
			sort.Strings(want)
			switch {
			case tf.Mode == "incremental" && prev != nil:
				if add := counts[id] - prev[id]; tf.Rows != add {
					t.Errorf("%s %s: incremental %d rows, want the %d added", name, id, tf.Rows, add)
				}
			default:
				if tf.Rows != counts[id] {
					t.Errorf("%s %s: %d rows, the database has %d", name, id, tf.Rows, counts[id])
				}
			}
			if tf.Key == "" {
				continue
			}
			file := filepath.Join(out, name, tf.Key)
			r := duck(fmt.Sprintf("SELECT count(*) AS n FROM read_parquet('%s', hive_partitioning = false)", file), fmt.Sprintf("DESCRIBE SELECT * FROM read_parquet('%s', hive_partitioning = false)", file))
			if n := num(r[0][0]["n"]); n != tf.Rows {
				t.Errorf("%s %s: DuckDB reads %d rows, the manifest says %d", name, id, n, tf.Rows)
			}
			var got []string
			for _, c := range r[1] {
				got = append(got, c["column_name"].(string))
			}
			sort.Strings(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s %s: columns %v, the grant allows %v", name, id, got, want)
			}
		}
		// Every table with an allowed column is there.
		for db, p := range policies {
			for tname, tp := range p {
				for c := range tp.Columns {
					if allowed(tp.ColumnTags(c), g[0], g[1]) && !seen[db+"."+tname] {
						t.Errorf("%s: table %s.%s (column %s allowed) is not in the manifest", name, db, tname, c)
						break
					}
				}
			}
		}
	}
	// No secret column in any file: every Parquet file's schema.
	var files []string
	err := filepath.Walk(out, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".parquet") {
			files = append(files, p)
		}
		return err
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("no parquet files under %s: %v", out, err)
	}
	var qs []string
	for _, f := range files {
		qs = append(qs, fmt.Sprintf("SELECT name FROM parquet_schema('%s') WHERE num_children IS NULL OR num_children = 0", f))
	}
	// Nor any secret value the seed wrote, in any column of any row.
	var vs []string
	for _, f := range files {
		vs = append(vs, fmt.Sprintf("SELECT count(*) AS n FROM read_parquet('%s', hive_partitioning = false) t WHERE CAST(t AS VARCHAR) LIKE '%%SECRET%%'", f))
	}
	for i, r := range duck(vs...) {
		if n := num(r[0]["n"]); n != 0 {
			t.Errorf("%s: %d rows hold a seeded secret value", files[i], n)
		}
	}
	for i, rows := range duck(qs...) {
		table := strings.TrimPrefix(filepath.Base(filepath.Dir(filepath.Dir(files[i]))), "table=")
		db := strings.TrimPrefix(filepath.Base(filepath.Dir(filepath.Dir(filepath.Dir(files[i])))), "db=")
		for _, r := range rows {
			col := r["name"].(string)
			if slices.Contains(policies[db][table].ColumnTags(col), coltags.Secret) {
				t.Errorf("%s holds secret column %s.%s", files[i], table, col)
			}
		}
	}
	return ms
}

// allowed is the grant rule, written out again: every tag granted, none
// secret.
func allowed(tags, clear, pseudo []string) bool {
	if len(tags) == 0 {
		return false
	}
	for _, tg := range tags {
		if tg == coltags.Secret || !slices.Contains(clear, tg) && !slices.Contains(pseudo, tg) {
			return false
		}
	}
	return true
}

// tableKey is the file key of db.table in m.
func tableKey(m *dataexport.Manifest, db, table string) string {
	for _, tf := range m.Tables {
		if tf.DB == db && tf.Table == table {
			return tf.Key
		}
	}
	return ""
}

// duckStrings runs a query whose rows have one string column v.
func duckStrings(t *testing.T, duck func(...string) [][]map[string]any, q string) []string {
	t.Helper()
	var out []string
	for _, r := range duck(q)[0] {
		out = append(out, r["v"].(string))
	}
	return out
}

// num reads a JSON number or the string DuckDB's client gives big integers as.
func num(v any) int64 {
	switch x := v.(type) {
	case float64:
		return int64(x)
	case string:
		var n int64
		fmt.Sscan(x, &n)
		return n
	}
	return -1
}
