package dataexport

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/coltags"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestExportBenchmark exports CAMCLOUD_EXPORT_BENCH_ROWS generated segment
// rows (e.g. 10000000) from MariaDB to local Parquet and logs the time, the
// rows per second and the peak Go heap (sampled every 50 ms) with the
// process's peak RSS: the figures of docs/benchmarks.md. It is no part of
// the normal test run (it skips without the variable). The rows are made
// by the server (MariaDB's sequence engine, INSERT ... SELECT), 1000
// cameras of 60 s segments, each with a 64-byte fragment table.
//
//	CAMCLOUD_EXPORT_BENCH_ROWS=10000000 go test -run TestExportBenchmark -v -timeout 60m ./internal/dataexport/
func TestExportBenchmark(t *testing.T) {
	v := os.Getenv("CAMCLOUD_EXPORT_BENCH_ROWS")
	if v == "" {
		t.Skip("set CAMCLOUD_EXPORT_BENCH_ROWS to run the export benchmark")
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1000 {
		t.Fatalf("CAMCLOUD_EXPORT_BENCH_ROWS %q: want a number >= 1000", v)
	}
	ctx := context.Background()
	dsn := testenv.MySQLDatabases(t, "exbench")[0]
	z, err := store.OpenZone(ctx, dsn, nil)
	must(t, err)
	defer z.Close()
	_, source, err := store.ParseDSN(dsn)
	must(t, err)
	db, err := sql.Open("mysql", source)
	must(t, err)
	defer db.Close()
	begin := time.Now()
	const chunk = 1_000_000
	for from := 0; from < n; from += chunk {
		to := min(from+chunk, n) - 1
		_, err := db.ExecContext(ctx, fmt.Sprintf(`INSERT INTO segments (camera_id, start_us, end_us, indexed_us, size, obj_key, init_key, codec, fragments)
  SELECT CONCAT('cam-', LPAD(seq MOD 1000, 4, '0')), 1767225600000000 + (seq DIV 1000) * 60000000, 1767225660000000 + (seq DIV 1000) * 60000000,
    1767225660000000 + (seq DIV 1000) * 60000000,
    2000000 + seq MOD 100000, CONCAT('cam-', LPAD(seq MOD 1000, 4, '0'), '/2026/01/01/', seq DIV 1000, '.m4s'), CONCAT('cam-', LPAD(seq MOD 1000, 4, '0'), '/init-1.mp4'),
    'avc1.64001f,mp4a.40.2', UNHEX(REPEAT(LPAD(HEX(seq MOD 65536), 4, '0'), 32))
  FROM seq_%d_to_%d`, from, to))
		must(t, err)
	}
	t.Logf("generated %d segment rows in %s", n, time.Since(begin).Round(time.Second))

	out := t.TempDir()
	bs, err := blob.NewLocal(out)
	must(t, err)
	e := &Exporter{
		Sources: []Source{{DB: "zone-bench", Policy: store.ZonePolicy(), Repo: z.(store.Snapshotter)}},
		Audiences: []Audience{{Name: "analytics", Clear: []string{coltags.Recording, coltags.Usage, coltags.Ops},
			Pseudonymise: []string{coltags.ID}, Key: []byte("benchmark-key-0123456789abcdef0123"), Store: bs}},
		TempDir: out,
	}
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	begin = time.Now()
	res, err := e.Run(ctx)
	took := time.Since(begin)
	close(stop)
	<-sampled
	must(t, err)
	var rows, bytes int64
	for _, tf := range res.Manifests[0].Tables {
		if tf.Table == "segments" {
			rows, bytes = tf.Rows, tf.Bytes
		}
	}
	if rows != int64(n) {
		t.Fatalf("exported %d segment rows, want %d", rows, n)
	}
	t.Logf("exported %d segment rows in %s: %.0f rows/s, %.1f MiB of Parquet, peak Go heap in use %.1f MiB, peak RSS %.1f MiB, GOMAXPROCS %d",
		rows, took.Round(100*time.Millisecond), float64(rows)/took.Seconds(), float64(bytes)/(1<<20), float64(peak.Load())/(1<<20), maxRSSMiB(), runtime.GOMAXPROCS(0))
}
