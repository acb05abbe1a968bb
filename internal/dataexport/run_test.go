package dataexport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/coltags"
	"github.com/camcloud/camcloud/internal/store"
)

// seeded opens a SQLite directory and zone with one organisation, user,
// camera and n segments.
func seeded(t *testing.T, n int) (store.Directory, store.Zone) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	d, err := store.OpenDirectory(ctx, "sqlite:"+filepath.Join(dir, "dir.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	z, err := store.OpenZone(ctx, "sqlite:"+filepath.Join(dir, "zone.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { z.Close() })
	now := time.Now()
	must(t, d.CreateOrg(ctx, store.Org{ID: "org1", Name: "Acme", CreatedAt: now}))
	must(t, d.CreateUser(ctx, store.User{ID: "u1", Email: "a@example.com", PasswordHash: "argon2id$SECRET", CreatedAt: now}))
	must(t, d.CreateCamera(ctx, store.Camera{ID: "cam1", OrgID: "org1", Name: "door", Zone: "local", SourceType: "push",
		RetentionDays: 7, Recording: "continuous", IngestSecretHash: "SECRETHASH", CreatedAt: now}))
	for i := range n {
		s := now.Add(-3*time.Hour + time.Duration(i)*time.Second)
		must(t, z.InsertSegment(ctx, store.Segment{CameraID: "cam1", Start: s, End: s.Add(time.Second), Size: int64(i), Key: "k", InitKey: "i", Codec: "avc1"}))
	}
	return d, z
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// readColumns returns the column names and row count of a Parquet file.
func readColumns(t *testing.T, path string) ([]string, int64) {
	t.Helper()
	f, err := os.Open(path)
	must(t, err)
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	must(t, err)
	var names []string
	for _, c := range pf.Schema().Columns() {
		names = append(names, c[0])
	}
	slices.Sort(names)
	return names, pf.NumRows()
}

func mustSize(t *testing.T, f *os.File) int64 {
	st, err := f.Stat()
	must(t, err)
	return st.Size()
}

func TestExportGrantsAndIncrement(t *testing.T) {
	ctx := context.Background()
	d, z := seeded(t, 100)
	out := t.TempDir()
	bs, err := blob.NewLocal(out)
	must(t, err)
	e := &Exporter{
		Sources: []Source{
			{DB: "directory", Policy: store.DirectoryPolicy(), Repo: d.(store.Snapshotter)},
			{DB: "zone-local", Policy: store.ZonePolicy(), Repo: z.(store.Snapshotter)},
		},
		Audiences: []Audience{
			{Name: "finance", Clear: []string{coltags.Recording, coltags.Usage, coltags.Camera}, Pseudonymise: []string{coltags.ID}, Key: []byte("k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1"), Store: bs},
			{Name: "support", Clear: []string{coltags.Account, coltags.PII, coltags.ID, coltags.Security, coltags.Ops, coltags.Content}, Store: bs},
		},
		// No settling lag: the rows were indexed before the run began.
		SegmentLag: 0,
	}
	res, err := e.Run(ctx)
	must(t, err)
	fin := res.Manifests[0]
	byTable := map[string]TableFile{}
	for _, tf := range fin.Tables {
		byTable[tf.DB+"."+tf.Table] = tf
	}
	seg := byTable["zone-local.segments"]
	if seg.Rows != 100 || seg.Mode != "full" {
		t.Fatalf("finance segments %+v", seg)
	}
	cols, rows := readColumns(t, filepath.Join(out, seg.Key))
	if want := []string{"camera_id", "codec", "end_us", "size", "start_us"}; !slices.Equal(cols, want) || rows != 100 {
		t.Fatalf("finance segments file: columns %v rows %d, want %v and 100", cols, rows, want)
	}
	// Each pseudonymised column of a row has its own pseudonym.
	f, err := os.Open(filepath.Join(out, byTable["directory.cameras"].Key))
	must(t, err)
	defer f.Close()
	rows2, err := parquet.Read[struct {
		ID    string `parquet:"id"`
		OrgID string `parquet:"org_id"`
	}](f, mustSize(t, f))
	must(t, err)
	if len(rows2) != 1 || rows2[0].ID == rows2[0].OrgID || len(rows2[0].ID) != pseudonymLen || rows2[0].ID == "cam1" {
		t.Fatalf("pseudonymised cameras %+v", rows2)
	}
	if _, ok := byTable["directory.users"]; ok {
		t.Fatal("finance got the users table (tagged account)")
	}
	sup := map[string]TableFile{}
	for _, tf := range res.Manifests[1].Tables {
		sup[tf.DB+"."+tf.Table] = tf
	}
	cols, _ = readColumns(t, filepath.Join(out, sup["directory.users"].Key))
	if slices.Contains(cols, "password_hash") || slices.Contains(cols, "totp_secret") || !slices.Contains(cols, "email") {
		t.Fatalf("support users columns %v", cols)
	}
	// A segment indexed after the first run but ended four hours ago,
	// before every segment that run exported, as an edge agent's backfill
	// or a spool recovered late makes it: the second run, incremental,
	// exports it (it follows indexed_us, not end_us).
	must(t, z.InsertSegment(ctx, store.Segment{CameraID: "cam1", Start: time.Now().Add(-4 * time.Hour), End: time.Now().Add(-4*time.Hour + time.Second), Size: 1, Key: "k", InitKey: "i", Codec: "avc1"}))
	res2, err := e.Run(ctx)
	must(t, err)
	for _, tf := range res2.Manifests[0].Tables {
		if tf.Table == "segments" {
			if tf.Mode != "incremental" || tf.Rows != 1 || tf.From != seg.To {
				t.Fatalf("second run segments %+v (first to %d)", tf, seg.To)
			}
		}
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// NewMetricsForTest registers the metrics with a registry of their own.
func NewMetricsForTest() *Metrics { return NewMetrics(prometheus.NewRegistry()) }
