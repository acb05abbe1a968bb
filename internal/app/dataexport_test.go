package app_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/apptest"
	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/dataexport"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestScheduledDataExport: with export.interval set, serve runs the export
// by itself; the audience's manifest appears, the run is audited and the
// metrics count it.
func TestScheduledDataExport(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "export")
	cfg := filepath.Join(dir, "camcloud.yaml")
	y := "export:\n  interval: 10s\n  audiences:\n    - name: ops\n      clear: [platform, ops]\n      store: {type: local, dir: " + out + "}\n"
	if err := os.WriteFile(cfg, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	n := apptest.Start(t, "--config", cfg)
	bs, err := blob.NewLocal(out)
	if err != nil {
		t.Fatal(err)
	}
	var m *dataexport.Manifest
	testenv.Eventually(t, 60*time.Second, "a scheduled export's manifest", func() bool {
		m, err = dataexport.ReadLatest(context.Background(), bs, "ops")
		return err == nil && m != nil
	})
	if len(m.Tables) == 0 || len(m.Databases) != 2 {
		t.Fatalf("manifest %+v", m)
	}
	testenv.Eventually(t, 10*time.Second, "the audit entry of the run", func() bool {
		es, err := n.App.Dir.ListAudit(context.Background(), store.AuditFilter{Actor: "system:data-export", Limit: 10})
		if err != nil {
			return false
		}
		for _, e := range es {
			if e.Action == "data.export" && strings.Contains(e.Detail, m.RunID) {
				return true
			}
		}
		return false
	})
	resp, err := http.Get(n.Base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `camcloud_export_runs_total{result="ok"}`) || !strings.Contains(string(body), `camcloud_export_rows_total{db="directory",table="schema_migrations"}`) {
		t.Errorf("/metrics lacks the export's series")
	}
}
