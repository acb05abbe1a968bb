package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/testenv"
)

// readmeWalkThrough returns the README's curl walk-through: the first sh
// block after "Try the API with curl".
func readmeWalkThrough(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(testenv.RepoFile("README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "Try the API with curl")
	if i < 0 {
		t.Fatal(`README.md has no "Try the API with curl" section`)
	}
	m := regexp.MustCompile("(?s)```sh\n(.*?)```").FindStringSubmatch(s[i:])
	if m == nil {
		t.Fatal("no sh block after \"Try the API with curl\" in README.md")
	}
	return m[1]
}

// TestREADMECurlWalkThrough runs the README's curl walk-through with bash
// as written against `camcloud serve` started on a fresh data directory,
// changing only what the reader changes: the password serve printed for
// PRINTED-PASSWORD and, since port 8080 may be taken on a test machine,
// the address it listens on for localhost:8080. Every step must work: a
// token, an organisation, the member, the camera with its ingest URLs, and
// the list that shows it.
func TestREADMECurlWalkThrough(t *testing.T) {
	bash := testenv.Tool(t, "bash")
	testenv.Tool(t, "curl")
	testenv.Tool(t, "jq")
	script := readmeWalkThrough(t)
	for _, want := range []string{"localhost:8080", "PRINTED-PASSWORD", "admin@camcloud.local"} {
		if !strings.Contains(script, want) {
			t.Fatalf("the walk-through no longer says %q; adjust this test:\n%s", want, script)
		}
	}
	bin := buildBinary(t)
	addr := testenv.ChildAddr(t)
	cmd := exec.Command(bin, "serve", "--data-dir", t.TempDir(), "--http", addr, "--rtsp", testenv.ChildAddr(t), "--rtmp", testenv.ChildAddr(t), "--rtsp-udp", "")
	cmd.Env = os.Environ()      // no CAMCLOUD_ADMIN_*: serve makes and prints the password, as on a first start
	out := &testenv.LogBuffer{} // written by the copying goroutines while read here
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("camcloud serve output:\n%s", out.String())
		}
	})
	waitReady(t, "http://"+addr)
	printed := regexp.MustCompile(`created platform admin admin@camcloud.local with password (\S+)`).FindStringSubmatch(out.String())
	if printed == nil {
		t.Fatalf("serve did not print the admin's password:\n%s", out.String())
	}
	run := strings.NewReplacer("localhost:8080", addr, "PRINTED-PASSWORD", printed[1]).Replace(script)
	dir := t.TempDir()
	file := filepath.Join(dir, "walkthrough.sh")
	// -e: a failed command fails the test; the values are printed after
	// the walk-through, which cannot see them.
	if err := os.WriteFile(file, []byte("set -euo pipefail\n"+run+"\necho \"TOKEN=$TOKEN\"\necho \"ORG=$ORG\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sh := exec.Command(bash, file)
	sh.Dir = dir
	var so, se bytes.Buffer
	sh.Stdout, sh.Stderr = &so, &se
	start := time.Now()
	if err := sh.Run(); err != nil {
		t.Fatalf("the walk-through failed (%v after %s):\n%s\n%s", err, time.Since(start).Round(time.Millisecond), so.String(), se.String())
	}
	got := so.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^TOKEN=\S{20,}$`),
		regexp.MustCompile(`(?m)^ORG=[0-9a-f]{32}$`),
		regexp.MustCompile(`"email":"bob@example.com"`),
		regexp.MustCompile(`"rtsp_url":"rtsp://[^"]+/cam/[0-9a-f]{32}/`),
		regexp.MustCompile(`\{"cameras":\[\{[^]]*"name":"Gate"`),
	} {
		if !want.MatchString(got) {
			t.Errorf("the walk-through's output has no %s:\n%s\n%s", want, got, se.String())
		}
	}
	if strings.Contains(got, `"error"`) {
		t.Errorf("a step of the walk-through answered an error:\n%s", got)
	}
}
