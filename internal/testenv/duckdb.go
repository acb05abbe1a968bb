package testenv

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// duckdbNodeVersion is the @duckdb/node-api version .ci/run installs.
const duckdbNodeVersion = "1.5.6-r.1"

// duckdbScript runs the SQL queries of a JSON array on stdin in one
// in-memory DuckDB and prints, as JSON, the rows of each (values made
// JSON-safe by the client: big integers as strings).
const duckdbScript = `
const { DuckDBInstance } = require('@duckdb/node-api');
(async () => {
  const queries = JSON.parse(require('fs').readFileSync(0, 'utf8'));
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const out = [];
  for (const q of queries) {
    const r = await conn.runAndReadAll(q);
    out.push(r.getRowObjectsJson());
  }
  process.stdout.write(JSON.stringify(out));
})().catch(e => { console.error(String(e && e.stack || e)); process.exit(1); });
`

// DuckDB returns a function that runs SQL queries in DuckDB (its Node.js
// client, installed by .ci/run into a cache directory, or where
// CAMCLOUD_DUCKDB_NODE points) and returns the rows of each; it skips the
// test, or fails it in strict mode, when node or the package is missing.
// A reader nobody here wrote, for checking the Parquet files camcloud
// writes.
func DuckDB(t testing.TB) func(queries ...string) [][]map[string]any {
	t.Helper()
	node := Tool(t, "node")
	dir := os.Getenv("CAMCLOUD_DUCKDB_NODE")
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err == nil {
			dir = filepath.Join(cache, "camcloud", "duckdb-node-"+duckdbNodeVersion)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@duckdb", "node-api")); err != nil {
		Missing(t, "the npm package @duckdb/node-api (.ci/run installs it; or set CAMCLOUD_DUCKDB_NODE)")
	}
	return func(queries ...string) [][]map[string]any {
		t.Helper()
		in, _ := json.Marshal(queries)
		cmd := exec.Command(node, "-e", duckdbScript)
		cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
		cmd.Stdin = bytes.NewReader(in)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("duckdb: %v: %s", err, stderr.String())
		}
		var res [][]map[string]any
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("duckdb output: %v", err)
		}
		return res
	}
}
