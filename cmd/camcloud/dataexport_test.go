package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/coltags"
	"github.com/camcloud/camcloud/internal/dataexport"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/testenv"
)

// exportGrants are the audiences of the test deployment: clear tags, then
// pseudonymised ones.
var exportGrants = map[string][2][]string{
	"analytics": {{coltags.Camera, coltags.Recording, coltags.Events, coltags.Usage, coltags.Ops, coltags.Content}, {coltags.ID}},
	"support":   {{coltags.Account, coltags.Camera, coltags.PII, coltags.Security, coltags.Ops, coltags.Content, coltags.ID, coltags.Integration}, nil},
}

// exportLag is the export's segment_lag in the test: the newest segments
// of the first run (made while cameras record) wait for the second.
const exportLag = 10 * time.Second

// pseudonymKey is the analytics audience's HMAC key.
const pseudonymKey = "analytics-pseudonym-key-0123456789abcdef"

// exportSource is one database of the deployment as the test reads it.
type exportSource struct {
	db     string // as the export names it: directory, zone-NAME
	repo   store.Snapshotter
	policy store.Policy
}

// TestDataExportDeployment runs `camcloud data export` (the binary, as a
// process) against the scale-out deployment (a directory and two zones on
// MariaDB, a versitygw bucket per zone, two api processes and two camera
// servers per zone) after the product itself made the data: simulated
// cameras pushed and pulled in both zones (segments, events, usage of
// recording, ingest, clips and images), and API calls made members, a TOTP
// enrolment, an API key, share links, a webhook (with deliveries) and a
// pulled camera whose URL has a password. The first run reads the
// databases while they are written; the second, after every camera
// server drained, reads only what was added. DuckDB reads the files: each
// audience's files hold exactly the columns its grant allows; rows are
// what the databases held at the snapshot (exactly for the append-only
// tables and the quiet second run, between the counts before and after
// for tables written during the first); no secret column, and no secret
// value (the credentials the API handed out and every value of every
// secret column in the databases), is in any file; pseudonyms are the
// HMAC of the ids under the audience's key in both runs, and the segments,
// events and usage of both zones join the cameras by them.
func TestDataExportDeployment(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process data export test skipped in -short mode")
	}
	duck := testenv.DuckDB(t)
	testenv.Tool(t, "ffmpeg") // images
	dsns := testenv.MySQLDatabases(t, "dir", "za", "zb")
	s3 := testenv.StartS3(t)
	bin := buildBinary(t)
	rcv := testenv.NewHookReceiver(t)
	d := newDeployment(t, bin, s3, dsns, fmt.Sprintf("usage_flush: 2s\nwebhook_allow: [%q]\nwebhook_allow_http: true\n", testenv.LoopbackAllow))
	ctx := context.Background()
	d.openZones(ctx)
	cams := d.createCameras(ctx)
	defer d.stopCameras()
	var orgs struct{ Orgs []struct{ ID string } }
	testenv.APICall(t, "http://"+d.apis[0].http, d.token, "GET", "/api/v1/orgs", nil, &orgs)
	if len(orgs.Orgs) != 1 {
		t.Fatalf("orgs: %+v", orgs)
	}
	org := orgs.Orgs[0].ID
	secrets := d.makeSecrets(t, org, cams, rcv)
	d.waitRecording(ctx, cams, 8)
	d.fetchMedia(ctx, cams)
	d.waitUsage(ctx, org)

	dir, err := store.OpenDirectory(ctx, dsns[0], slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	snapshotter := func(x any) store.Snapshotter {
		s, ok := x.(store.Snapshotter)
		if !ok {
			t.Fatalf("%T opens no snapshots", x)
		}
		return s
	}
	srcs := []exportSource{{db: "directory", repo: snapshotter(dir), policy: store.DirectoryPolicy()}}
	for _, z := range d.zones {
		srcs = append(srcs, exportSource{db: "zone-" + z.name, repo: snapshotter(z.db), policy: store.ZonePolicy()})
	}

	// The export's configuration: the deployment's, and two audiences.
	work := t.TempDir()
	out := filepath.Join(work, "out")
	base, err := os.ReadFile(d.cfg)
	if err != nil {
		t.Fatal(err)
	}
	y := strings.Builder{}
	y.Write(base)
	// The CLI runs as role all, whose camera-server zone must be one of
	// the deployment's (it serves nothing).
	fmt.Fprintf(&y, "zone: %s\nexport:\n  segment_lag: %s\n  audiences:\n", d.zones[0].name, exportLag)
	for _, name := range []string{"analytics", "support"} {
		g := exportGrants[name]
		fmt.Fprintf(&y, "    - name: %s\n      clear: [%s]\n      store: {type: local, dir: %s}\n", name, strings.Join(g[0], ", "), filepath.Join(out, name))
		if len(g[1]) > 0 {
			fmt.Fprintf(&y, "      pseudonymise: [%s]\n      key: %s\n", strings.Join(g[1], ", "), pseudonymKey)
		}
	}
	cfgFile := filepath.Join(work, "export.yaml")
	if err := os.WriteFile(cfgFile, []byte(y.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	runExport := func() {
		t.Helper()
		cmd := exec.Command(bin, "data", "export", "--config", cfgFile, "--data-dir", filepath.Join(work, "cli"))
		var so, se bytes.Buffer
		cmd.Stdout, cmd.Stderr = &so, &se
		if err := cmd.Run(); err != nil {
			t.Fatalf("camcloud data export: %v\n%s%s", err, so.String(), se.String())
		}
		for _, z := range d.zones {
			if !strings.Contains(so.String(), "zone-"+z.name) {
				t.Errorf("progress output names no table of zone %s:\n%s", z.name, so.String())
			}
		}
		t.Logf("camcloud data export:\n%s", so.String())
	}

	// Run 1, while cameras record, events are delivered and usage flushed.
	before := countRows(t, srcs, nil)
	runExport()
	m1 := readManifests(t, out)
	after := countRows(t, srcs, nil)
	checkRows(t, srcs, m1, before, after)
	checkFiles(t, duck, out, srcs, m1)
	camIDs := columnValues(t, srcs[0].repo, "cameras", "id")
	pseudo1 := cameraPseudonyms(t, duck, out, m1, camIDs)

	// Quiet: the cameras stop, every camera server drains (its spool
	// uploaded, its usage flushed), and the databases stop changing.
	d.stopCameras()
	for _, z := range d.zones {
		for _, n := range z.servers {
			if code := n.term(90 * time.Second); code != 0 {
				t.Errorf("%s: exit code %d after SIGTERM", n.name, code)
			}
		}
	}
	stopped := time.Now()
	quiet := waitQuiet(t, srcs)
	// Every segment is settled for the export now.
	time.Sleep(time.Until(stopped.Add(exportLag + time.Second)))

	// Run 2: incremental; every count is exact now.
	runExport()
	m2 := readManifests(t, out)
	checkRows(t, srcs, m2, quiet, quiet)
	checkFiles(t, duck, out, srcs, m2)
	pseudo2 := cameraPseudonyms(t, duck, out, m2, camIDs)
	if !slices.Equal(pseudo1, pseudo2) {
		t.Errorf("camera pseudonyms differ between the runs: %v, then %v", pseudo1, pseudo2)
	}
	checkSecrets(t, duck, out, append(secrets, secretValues(t, srcs)...))
	checkJoins(t, duck, out, srcs, m2)
}

// makeSecrets makes, through the API, what has credentials: members with
// passwords, a TOTP enrolment, an API key, share links (one with a
// password), a webhook with a token in its URL (that delivers to rcv), a
// pulled camera whose URL carries a password; it returns every credential
// the API showed.
func (d *deployment) makeSecrets(t *testing.T, org string, cams []*soCam, rcv *testenv.HookReceiver) []string {
	t.Helper()
	api := "http://" + d.apis[1].http
	secrets := []string{"admin-password-1", d.token}
	var members []string
	for i, role := range []string{"admin", "viewer"} {
		pw := fmt.Sprintf("member-password-%d-%s", i, randText(t))
		email := fmt.Sprintf("member%d@example.com", i)
		testenv.APICall(t, api, d.token, "POST", "/api/v1/orgs/"+org+"/members", map[string]string{"email": email, "password": pw, "role": role}, nil)
		var login struct{ Token string }
		testenv.APICall(t, api, "", "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": pw}, &login)
		secrets = append(secrets, pw, login.Token)
		members = append(members, login.Token)
		if i == 0 {
			var totp struct{ Secret string }
			testenv.APICall(t, api, login.Token, "POST", "/api/v1/me/totp", map[string]string{"password": pw}, &totp)
			var key struct{ Key string }
			testenv.APICall(t, api, login.Token, "POST", "/api/v1/me/api-keys", map[string]string{"name": "reporting"}, &key)
			if totp.Secret == "" || key.Key == "" {
				t.Fatalf("TOTP secret %q, API key %q", totp.Secret, key.Key)
			}
			secrets = append(secrets, totp.Secret, key.Key)
		}
	}
	hookToken := "hook-token-" + randText(t)
	var hook struct{ ID, Secret string }
	testenv.APICall(t, api, members[0], "POST", "/api/v1/orgs/"+org+"/webhooks", map[string]any{"url": rcv.URL + "?token=" + hookToken}, &hook)
	rcv.SetSecret(hook.Secret)
	secrets = append(secrets, hookToken, hook.Secret)
	now := time.Now().UTC()
	sharePw := "share-password-" + randText(t)
	for i, body := range []map[string]any{
		{"from": now.Add(-time.Minute), "to": now.Add(time.Minute), "password": sharePw, "allow_download": true},
		{"live": true},
	} {
		var sh struct{ URL string }
		testenv.APICall(t, api, d.token, "POST", "/api/v1/cameras/"+cams[i].id+"/shares", body, &sh)
		_, tok, ok := strings.Cut(sh.URL, "#")
		if !ok || tok == "" {
			t.Fatalf("share URL %q has no token", sh.URL)
		}
		secrets = append(secrets, tok)
	}
	secrets = append(secrets, sharePw)
	for _, c := range cams {
		for _, u := range c.urls {
			if i := strings.LastIndex(u, "/"); i >= 0 {
				secrets = append(secrets, u[i+1:]) // the ingest secret
			}
		}
	}
	pullPw := "pull-password-" + randText(t)
	pu, err := url.Parse(d.pull.URL(1))
	if err != nil {
		t.Fatal(err)
	}
	pu.User = url.UserPassword("camuser", pullPw)
	testenv.APICall(t, api, d.token, "POST", "/api/v1/cameras", map[string]any{"org_id": org, "name": "pulled with a password", "zone": d.zones[1].name,
		"source": map[string]string{"type": "pull", "url": pu.String()}}, nil)
	return append(secrets, pullPw)
}

// fetchMedia fetches, through the second api node, a clip and an image of
// one camera of each zone, so that both zones meter egress.
func (d *deployment) fetchMedia(ctx context.Context, cams []*soCam) {
	t := d.t
	t.Helper()
	for _, z := range d.zones {
		for _, c := range cams {
			if c.zone != z || c.kind != "push" {
				continue
			}
			rows, err := segments(ctx, z.db, c.id)
			if err != nil || len(rows) == 0 {
				t.Fatalf("segments of %s: %d, %v", c.id, len(rows), err)
			}
			from := rows[0].Start
			q := url.Values{"from": {from.Format(time.RFC3339Nano)}, "to": {from.Add(3 * time.Second).Format(time.RFC3339Nano)}}
			for _, p := range []string{"/clip.mp4?" + q.Encode(), "/image?at=" + url.QueryEscape(from.Add(time.Second).Format(time.RFC3339Nano))} {
				if code, body := d.authGet("http://" + d.apis[1].http + "/api/v1/cameras/" + c.id + p); code != 200 || len(body) == 0 {
					t.Fatalf("GET %s: %d, %d bytes", p, code, len(body))
				}
			}
			break
		}
	}
}

// waitUsage waits until each zone's usage rows of org have recorded time
// and clip egress.
func (d *deployment) waitUsage(ctx context.Context, org string) {
	day := time.Now().UTC().Truncate(24 * time.Hour)
	for _, z := range d.zones {
		testenv.Eventually(d.t, 60*time.Second, "usage rows in zone "+z.name, func() bool {
			var rec, clip int64
			err := z.db.ScanUsage(ctx, org, day.Add(-24*time.Hour), day.Add(24*time.Hour), func(u store.UsageRow) error {
				rec += u.Counts[store.UsageRecordedMs]
				clip += u.Counts[store.UsageEgressClip]
				return nil
			})
			return err == nil && rec > 0 && clip > 0
		})
	}
}

// randText is 16 random hex digits.
func randText(t *testing.T) string {
	t.Helper()
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// countRows counts, in one snapshot per database, the rows of every table
// ("db.table"), and for each table of ms with a watermark the rows in its
// range ("audience:db.table").
func countRows(t *testing.T, srcs []exportSource, ms map[string]*dataexport.Manifest) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	out := map[string]int64{}
	for _, s := range srcs {
		withSnapshot(t, s.repo, func(snap *store.Snapshot, tables []store.TableInfo) error {
			for _, tb := range tables {
				n, err := snap.Count(ctx, tb.Name, store.Range{})
				if err != nil {
					return err
				}
				out[s.db+"."+tb.Name] = n
			}
			for aud, m := range ms {
				for _, tf := range m.Tables {
					if tf.DB != s.db || tf.Watermark == "" {
						continue
					}
					n, err := snap.Count(ctx, tf.Table, store.Range{Col: tf.Watermark, After: tf.From, UpTo: tf.To})
					if err != nil {
						return err
					}
					out[aud+":"+s.db+"."+tf.Table] = n
				}
			}
			return nil
		})
	}
	return out
}

// withSnapshot runs fn on a snapshot of repo and its tables.
func withSnapshot(t *testing.T, repo store.Snapshotter, fn func(*store.Snapshot, []store.TableInfo) error) {
	t.Helper()
	ctx := context.Background()
	snap, err := repo.BeginSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	tables, err := snap.Tables(ctx)
	if err == nil {
		err = fn(snap, tables)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// waitQuiet waits until two counts of every table 2 s apart agree, and
// returns them.
func waitQuiet(t *testing.T, srcs []exportSource) map[string]int64 {
	t.Helper()
	prev := countRows(t, srcs, nil)
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); {
		time.Sleep(2 * time.Second)
		now := countRows(t, srcs, nil)
		if fmt.Sprint(now) == fmt.Sprint(prev) {
			return now
		}
		prev = now
	}
	t.Fatal("the databases kept changing for 90 s after the camera servers stopped")
	return nil
}

// readManifests reads each audience's latest manifest.
func readManifests(t *testing.T, out string) map[string]*dataexport.Manifest {
	t.Helper()
	ms := map[string]*dataexport.Manifest{}
	for name := range exportGrants {
		bs, err := blob.NewLocal(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		m, err := dataexport.ReadLatest(context.Background(), bs, name)
		if err != nil || m == nil {
			t.Fatalf("%s: manifest %v, %v", name, m, err)
		}
		ms[name] = m
	}
	return ms
}

// checkRows compares each manifest's row counts with the databases. A
// table with a watermark: the rows in its range now, exactly (its rows
// only grow above the watermark: a new segment, audit entry or event; an
// event that ends moves to a new seq, so while cameras record the events
// may be fewer in the range now than at the snapshot, never more). A
// whole table: between the counts before and after the run (equal when
// nothing wrote meanwhile).
func checkRows(t *testing.T, srcs []exportSource, ms map[string]*dataexport.Manifest, before, after map[string]int64) {
	t.Helper()
	ranged := countRows(t, srcs, ms)
	for name, m := range ms {
		if len(m.Databases) != len(srcs) {
			t.Errorf("%s: the manifest has %d database snapshots, want %d", name, len(m.Databases), len(srcs))
		}
		for _, tf := range m.Tables {
			id := tf.DB + "." + tf.Table
			if tf.Watermark != "" {
				n := ranged[name+":"+id]
				if n != tf.Rows && !(tf.Table == "events" && n < tf.Rows && before[id] != after[id]) {
					t.Errorf("%s %s: %d rows with %s in (%d, %d], the database has %d", name, id, tf.Rows, tf.Watermark, tf.From, tf.To, n)
				}
				continue
			}
			lo, hi := min(before[id], after[id]), max(before[id], after[id])
			if lo != hi && name == "support" {
				t.Logf("%s was written during the run: %d rows before, %d at the snapshot, %d after", id, before[id], tf.Rows, after[id])
			}
			if tf.Rows < lo || tf.Rows > hi {
				t.Errorf("%s %s: %d rows, the database had %d before the run and %d after", name, id, tf.Rows, before[id], after[id])
			}
		}
	}
}

// allowedColumns is the grant rule, written out again: a column goes to an
// audience when it has tags and every one is granted, none secret.
func allowedColumns(tp store.TablePolicy, g [2][]string) []string {
	var out []string
	for c := range tp.Columns {
		tags := tp.ColumnTags(c)
		ok := len(tags) > 0
		for _, tg := range tags {
			if tg == coltags.Secret || !slices.Contains(g[0], tg) && !slices.Contains(g[1], tg) {
				ok = false
			}
		}
		if ok {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

// checkFiles reads every file the manifests name with DuckDB: its rows are
// the manifest's, its columns exactly those the grant allows; every table
// with an allowed column is in the manifest; and no Parquet file under out
// has a secret column.
func checkFiles(t *testing.T, duck func(...string) [][]map[string]any, out string, srcs []exportSource, ms map[string]*dataexport.Manifest) {
	t.Helper()
	policies := map[string]store.Policy{}
	for _, s := range srcs {
		policies[s.db] = s.policy
	}
	for name, m := range ms {
		g := exportGrants[name]
		seen := map[string]bool{}
		var qs []string
		var files []dataexport.TableFile
		for _, tf := range m.Tables {
			seen[tf.DB+"."+tf.Table] = true
			if tf.Key == "" {
				continue
			}
			file := filepath.Join(out, name, tf.Key)
			qs = append(qs, fmt.Sprintf("SELECT count(*) AS n FROM read_parquet('%s', hive_partitioning = false)", file),
				fmt.Sprintf("DESCRIBE SELECT * FROM read_parquet('%s', hive_partitioning = false)", file))
			files = append(files, tf)
		}
		res := duck(qs...)
		for i, tf := range files {
			id := tf.DB + "." + tf.Table
			if n := num(res[2*i][0]["n"]); n != tf.Rows {
				t.Errorf("%s %s: DuckDB reads %d rows, the manifest says %d", name, id, n, tf.Rows)
			}
			var got []string
			for _, c := range res[2*i+1] {
				got = append(got, c["column_name"].(string))
			}
			sort.Strings(got)
			if want := allowedColumns(policies[tf.DB][tf.Table], g); !slices.Equal(got, want) {
				t.Errorf("%s %s: columns %v, the grant allows %v", name, id, got, want)
			}
		}
		for db, p := range policies {
			for tname, tp := range p {
				if len(allowedColumns(tp, g)) > 0 && !seen[db+"."+tname] {
					t.Errorf("%s: table %s.%s has allowed columns and is not in the manifest", name, db, tname)
				}
			}
		}
	}
	files := exportFiles(t, out, ".parquet")
	var qs []string
	for _, f := range files {
		qs = append(qs, fmt.Sprintf("SELECT name FROM parquet_schema('%s') WHERE num_children IS NULL OR num_children = 0", f))
	}
	for i, rows := range duck(qs...) {
		table := strings.TrimPrefix(filepath.Base(filepath.Dir(filepath.Dir(files[i]))), "table=")
		db := strings.TrimPrefix(filepath.Base(filepath.Dir(filepath.Dir(filepath.Dir(files[i])))), "db=")
		for _, r := range rows {
			if col := r["name"].(string); slices.Contains(policies[db][table].ColumnTags(col), coltags.Secret) {
				t.Errorf("%s holds secret column %s.%s", files[i], table, col)
			}
		}
	}
}

// exportFiles lists the files under out whose names end in suffix.
func exportFiles(t *testing.T, out, suffix string) []string {
	t.Helper()
	var files []string
	err := filepath.Walk(out, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasSuffix(p, suffix) {
			files = append(files, p)
		}
		return err
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("no %s files under %s: %v", suffix, out, err)
	}
	return files
}

// secretValues reads every value of every secret column of every
// database: of a URL, its password and query values (the rest of it, a
// host and path, may be named elsewhere, in an audit entry); of anything
// else, the whole value. Values under 8 bytes are left out.
func secretValues(t *testing.T, srcs []exportSource) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	add := func(v string) {
		if len(v) >= 8 {
			out = append(out, v)
		}
	}
	for _, s := range srcs {
		withSnapshot(t, s.repo, func(snap *store.Snapshot, tables []store.TableInfo) error {
			for _, tb := range tables {
				var cols []store.ColumnInfo
				for _, c := range tb.Columns {
					if c.Kind == store.KindText && slices.Contains(s.policy[tb.Name].ColumnTags(c.Name), coltags.Secret) {
						cols = append(cols, c)
					}
				}
				if len(cols) == 0 {
					continue
				}
				err := snap.Scan(ctx, tb.Name, cols, store.Range{}, func(row []any) error {
					for _, v := range row {
						b, _ := v.([]byte)
						u, err := url.Parse(string(b))
						if err != nil || u.Scheme == "" || u.Host == "" {
							add(string(b))
							continue
						}
						if pw, ok := u.User.Password(); ok {
							add(pw)
						}
						for _, vs := range u.Query() {
							for _, v := range vs {
								add(v)
							}
						}
					}
					return nil
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	if len(out) < 10 {
		t.Fatalf("only %d secret values in the databases", len(out))
	}
	return out
}

// checkSecrets looks for each secret in every file under out: in the
// bytes of every file (manifests too), and in every row of every Parquet
// file as DuckDB reads it.
func checkSecrets(t *testing.T, duck func(...string) [][]map[string]any, out string, secrets []string) {
	t.Helper()
	slices.Sort(secrets)
	secrets = slices.Compact(secrets)
	for _, f := range exportFiles(t, out, "") {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds the secret %.6s...", f, s)
			}
		}
	}
	var vals []string
	for _, s := range secrets {
		vals = append(vals, "('"+strings.ReplaceAll(s, "'", "''")+"')")
	}
	qs := []string{"CREATE TABLE secrets (v VARCHAR)", "INSERT INTO secrets VALUES " + strings.Join(vals, ", ")}
	files := exportFiles(t, out, ".parquet")
	for _, f := range files {
		qs = append(qs, fmt.Sprintf("SELECT count(*) AS n, any_value(s.v) AS v FROM read_parquet('%s', hive_partitioning = false) t JOIN secrets s ON contains(CAST(t AS VARCHAR), s.v)", f))
	}
	for i, r := range duck(qs...)[2:] {
		if n := num(r[0]["n"]); n != 0 {
			v, _ := r[0]["v"].(string)
			t.Errorf("%s: %d rows hold a secret (%.6s...)", files[i], n, v)
		}
	}
	t.Logf("%d secret values looked for in %d files", len(secrets), len(files))
}

// columnValues reads one text column of a table, sorted.
func columnValues(t *testing.T, repo store.Snapshotter, table, col string) []string {
	t.Helper()
	var out []string
	withSnapshot(t, repo, func(snap *store.Snapshot, _ []store.TableInfo) error {
		return snap.Scan(context.Background(), table, []store.ColumnInfo{{Name: col, Kind: store.KindText}}, store.Range{}, func(row []any) error {
			out = append(out, string(row[0].([]byte)))
			return nil
		})
	})
	sort.Strings(out)
	return out
}

// pseudonym is the analytics audience's pseudonym of an id, computed here
// as the export documents it: the first 128 bits of HMAC-SHA256, in hex.
func pseudonym(id string) string {
	m := hmac.New(sha256.New, []byte(pseudonymKey))
	m.Write([]byte(id))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// cameraPseudonyms checks that the analytics audience's cameras file holds
// exactly the pseudonyms of the camera ids, and the support audience's
// the ids in clear, and returns the pseudonyms.
func cameraPseudonyms(t *testing.T, duck func(...string) [][]map[string]any, out string, ms map[string]*dataexport.Manifest, ids []string) []string {
	t.Helper()
	var want []string
	for _, id := range ids {
		want = append(want, pseudonym(id))
	}
	sort.Strings(want)
	for name, w := range map[string][]string{"analytics": want, "support": ids} {
		f := filepath.Join(out, name, tableKey(ms[name], "directory", "cameras"))
		var got []string
		for _, r := range duck(fmt.Sprintf("SELECT id AS v FROM read_parquet('%s') ORDER BY 1", f))[0] {
			got = append(got, r["v"].(string))
		}
		if !slices.Equal(got, w) {
			t.Errorf("%s: camera ids %v, want %v", name, got, w)
		}
	}
	return want
}

// checkJoins joins, in the analytics audience's files of both runs, the
// segments, events and usage rows of both zones to the cameras by
// pseudonym: every row finds its camera, and each zone's segment files
// (the first run's and the second's, incremental) together hold every
// segment the database has.
func checkJoins(t *testing.T, duck func(...string) [][]map[string]any, out string, srcs []exportSource, ms map[string]*dataexport.Manifest) {
	t.Helper()
	m := ms["analytics"]
	cams := filepath.Join(out, "analytics", tableKey(m, "directory", "cameras"))
	var qs []string
	tables := []string{"segments", "events", "usage_daily"}
	for _, tb := range tables {
		files := filepath.Join(out, "analytics", "audience=analytics", "db=zone-*", "table="+tb, "*", "*.parquet")
		qs = append(qs, fmt.Sprintf(`SELECT x.db AS db, count(*) AS n, count(c.id) AS joined FROM read_parquet('%s', hive_partitioning = true) x
  LEFT JOIN read_parquet('%s') c ON x.camera_id = c.id GROUP BY x.db ORDER BY x.db`, files, cams))
	}
	res := duck(qs...)
	for i, tb := range tables {
		if len(res[i]) != len(srcs)-1 {
			t.Errorf("%s: rows of %d zones, want %d: %v", tb, len(res[i]), len(srcs)-1, res[i])
		}
		for _, r := range res[i] {
			db := r["db"].(string)
			n, joined := num(r["n"]), num(r["joined"])
			t.Logf("%s of %s: %d rows, %d joined to a camera", tb, db, n, joined)
			if n == 0 || joined != n {
				t.Errorf("%s of %s: %d rows, %d joined to a camera", tb, db, n, joined)
			}
			if tb != "segments" {
				continue
			}
			for _, s := range srcs {
				if s.db != db {
					continue
				}
				for _, tf := range m.Tables {
					if tf.DB == db && tf.Table == "segments" && (tf.Mode != "incremental" || tf.Rows == 0) {
						t.Errorf("segments of %s: the second run read %d rows, %s; want new ones, incrementally", db, tf.Rows, tf.Mode)
					}
				}
				if want := countRange(t, s.repo, "segments", store.Range{}); n != want {
					t.Errorf("segments of %s: the files of both runs hold %d, the database has %d", db, n, want)
				}
			}
		}
	}
}

// countRange counts the rows of a table in a range.
func countRange(t *testing.T, repo store.Snapshotter, table string, r store.Range) int64 {
	t.Helper()
	var n int64
	withSnapshot(t, repo, func(snap *store.Snapshot, _ []store.TableInfo) (err error) {
		n, err = snap.Count(context.Background(), table, r)
		return err
	})
	return n
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
