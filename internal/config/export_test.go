package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// loadYAML loads a configuration from the YAML text y.
func loadYAML(t *testing.T, y string, args ...string) (Config, error) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(file, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return Load("serve", append([]string{"--data-dir", dir, "--config", file}, args...), envOf(nil))
}

const goodKey = "0123456789abcdef0123456789abcdef"

func TestExportAudiences(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "finance.key")
	if err := os.WriteFile(keyFile, []byte(goodKey+"-finance\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadYAML(t, `
export:
  interval: 1h
  audiences:
    - name: analytics
      clear: [camera, recording, events, usage, ops]
      pseudonymise: [id]
      key: `+goodKey+`
    - name: finance
      clear: [usage, camera, recording]
      pseudonymise: [id]
      key_file: `+keyFile+`
      store: {type: s3, endpoint: "127.0.0.1:7070", bucket: finance-export, prefix: camcloud}
`)
	if err != nil {
		t.Fatal(err)
	}
	e := c.Export
	if e.Interval != time.Hour || e.SegmentLag != time.Minute || len(e.Audiences) != 2 {
		t.Fatalf("export %+v", e)
	}
	if a := e.Audiences[0]; a.Store.Type != "local" || a.Store.Dir != filepath.Join(c.DataDir, "export") {
		t.Errorf("analytics store %+v, want local in the data dir", a.Store)
	}
	if a := e.Audiences[1]; a.Key != goodKey+"-finance" || a.Store.Bucket != "finance-export" {
		t.Errorf("finance: key %q store %+v", a.Key, a.Store)
	}
	def, err := Load("serve", []string{"--data-dir", t.TempDir()}, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if def.Export.Interval != 0 || len(def.Export.Audiences) != 0 {
		t.Errorf("the export is on by default: %+v", def.Export)
	}
}

// TestExportBadInput: every mistake in an audience is a clear error that
// names the audience and what is wrong.
func TestExportBadInput(t *testing.T) {
	aud := func(body string) string { return "export:\n  audiences:\n    - name: analytics\n" + body }
	for _, c := range []struct{ name, yaml, want string }{
		{"secret in clear", aud("      clear: [usage, secret]\n"), `"secret" cannot be granted: secret columns are never exported`},
		{"secret pseudonymised", aud("      pseudonymise: [secret]\n      key: " + goodKey + "\n"), `pseudonymise: tag "secret" cannot be granted`},
		{"unknown tag", aud("      clear: [usage, passwords]\n"), `clear: unknown tag "passwords" (the tags are`},
		{"tag twice", aud("      clear: [usage]\n      pseudonymise: [usage]\n      key: " + goodKey + "\n"), `"usage" is granted both in clear and pseudonymised`},
		{"no key", aud("      pseudonymise: [id]\n"), "pseudonymising needs a key"},
		{"short key", aud("      pseudonymise: [id]\n      key: short\n"), "at least 32 characters"},
		{"missing key file", aud("      pseudonymise: [id]\n      key_file: /nonexistent/key\n"), "key_file:"},
		{"no grant", aud(""), "grants no tag"},
		{"bad name", "export:\n  audiences:\n    - name: Bad_Name\n      clear: [usage]\n", `name "Bad_Name" must be`},
		{"twice", aud("      clear: [usage]\n") + "    - name: analytics\n      clear: [ops]\n", "analytics is configured twice"},
		{"bad store", aud("      clear: [usage]\n      store: {type: ftp}\n"), `store type "ftp"`},
		{"s3 without bucket", aud("      clear: [usage]\n      store: {type: s3, endpoint: x}\n"), "needs endpoint and bucket"},
		{"interval without audience", "export:\n  interval: 1h\n", "no audience"},
		{"interval too short", aud("      clear: [usage]\n") + "  interval: 1s\n", "interval 1s must be 0 (off) or in"},
		{"unknown field", aud("      clear: [usage]\n      grants: [x]\n"), "field grants not found"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := loadYAML(t, c.yaml)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %q", err, c.want)
			}
		})
	}
}
