package dataexport

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/coltags"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/testenv"
)

// keys lists every key of s.
func keys(t *testing.T, s blob.Store) []string {
	t.Helper()
	var out []string
	must(t, s.List(context.Background(), "", func(k string, _ int64) error { out = append(out, k); return nil }))
	return out
}

func exporterFor(d store.Directory, z store.Zone, auds ...Audience) *Exporter {
	return &Exporter{
		Sources: []Source{
			{DB: "directory", Policy: store.DirectoryPolicy(), Repo: d.(store.Snapshotter)},
			{DB: "zone-local", Policy: store.ZonePolicy(), Repo: z.(store.Snapshotter)},
		},
		Audiences:  auds,
		SegmentLag: time.Hour,
	}
}

// TestExportToS3 writes two audiences to their own prefixes of one bucket
// of a real S3 server (versitygw): each prefix holds only its audience's
// partitions and manifests, and the files' SHA-256 match the manifest.
func TestExportToS3(t *testing.T) {
	srv := testenv.StartS3(t)
	ctx := context.Background()
	d, z := seeded(t, 20)
	open := func(prefix string) blob.Store {
		s, err := blob.NewS3(ctx, blob.S3Config{Endpoint: srv.Endpoint, Region: "us-east-1", Bucket: "export", Prefix: prefix,
			AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, PathStyle: true})
		must(t, err)
		must(t, s.EnsureBucket(ctx))
		return s
	}
	fin, ops := open("finance"), open("ops")
	e := exporterFor(d, z,
		Audience{Name: "finance", Clear: []string{coltags.Recording, coltags.Usage}, Pseudonymise: []string{coltags.ID}, Key: []byte(strings.Repeat("f", 32)), Store: fin},
		Audience{Name: "ops", Clear: []string{coltags.Platform, coltags.Ops}, Store: ops})
	res, err := e.Run(ctx)
	must(t, err)
	for i, s := range []blob.Store{fin, ops} {
		name := e.Audiences[i].Name
		ks := keys(t, s)
		if len(ks) < 3 {
			t.Fatalf("%s: keys %v", name, ks)
		}
		for _, k := range ks {
			if !strings.HasPrefix(k, "audience="+name+"/") {
				t.Errorf("%s's prefix holds %s", name, k)
			}
		}
		for _, tf := range res.Manifests[i].Tables {
			if tf.Key == "" {
				continue
			}
			r, err := s.Get(ctx, tf.Key)
			must(t, err)
			b, err := io.ReadAll(r)
			r.Close()
			must(t, err)
			if int64(len(b)) != tf.Bytes || sha(b) != tf.SHA256 {
				t.Errorf("%s %s: %d bytes, sha %s; manifest %d, %s", name, tf.Key, len(b), sha(b), tf.Bytes, tf.SHA256)
			}
		}
	}
}

// failingStore fails every Put after the first n.
type failingStore struct {
	blob.Store
	n int
}

func (f *failingStore) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if f.n <= 0 {
		return errors.New("store down")
	}
	f.n--
	return f.Store.Put(ctx, key, r, size)
}

// TestFailedRunLeavesNothing: a run whose store fails midway removes every
// file it wrote and writes no manifest, so the previous run's dataset is
// what readers see, file for file.
func TestFailedRunLeavesNothing(t *testing.T) {
	ctx := context.Background()
	d, z := seeded(t, 20)
	local, err := blob.NewLocal(t.TempDir())
	must(t, err)
	aud := Audience{Name: "ops", Clear: []string{coltags.Platform, coltags.Ops, coltags.Camera, coltags.ID}, Store: local}
	first, err := exporterFor(d, z, aud).Run(ctx)
	must(t, err)
	before := strings.Join(keys(t, local), "\n")
	aud.Store = &failingStore{Store: local, n: 3}
	m := NewMetricsForTest()
	e := exporterFor(d, z, aud)
	e.Metrics = m
	if _, err := e.Run(ctx); err == nil || !strings.Contains(err.Error(), "store down") {
		t.Fatalf("run with a failing store: %v", err)
	}
	if after := strings.Join(keys(t, local), "\n"); after != before {
		t.Fatalf("a failed run changed the dataset:\nbefore\n%s\nafter\n%s", before, after)
	}
	latest, err := ReadLatest(ctx, local, "ops")
	must(t, err)
	if latest.RunID != first.RunID {
		t.Fatalf("latest manifest is run %s, want the first run %s", latest.RunID, first.RunID)
	}
}

// TestExportIsExclusive: while one process holds the export lock of a
// MariaDB directory (another api node exporting), a run fails with ErrBusy
// and writes nothing.
func TestExportIsExclusive(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.MySQLDatabases(t, "exlock")[0]
	other, err := store.OpenDirectory(ctx, dsn, nil)
	must(t, err)
	defer other.Close()
	unlock, ok, err := other.(store.JobLocker).TryJobLock(ctx, "data-export")
	must(t, err)
	if !ok {
		t.Fatal("lock not taken")
	}
	d, err := store.OpenDirectory(ctx, dsn, nil)
	must(t, err)
	defer d.Close()
	local, err := blob.NewLocal(t.TempDir())
	must(t, err)
	e := &Exporter{Sources: []Source{{DB: "directory", Policy: store.DirectoryPolicy(), Repo: d.(store.Snapshotter)}},
		Audiences: []Audience{{Name: "ops", Clear: []string{coltags.Platform, coltags.Ops}, Store: local}}, Lock: d.(store.JobLocker)}
	if _, err := e.Run(ctx); !errors.Is(err, ErrBusy) {
		t.Fatalf("run while another holds the lock: %v, want ErrBusy", err)
	}
	if ks := keys(t, local); len(ks) != 0 {
		t.Fatalf("a refused run wrote %v", ks)
	}
	unlock()
	if _, err := e.Run(ctx); err != nil {
		t.Fatalf("run after the lock was released: %v", err)
	}
}
