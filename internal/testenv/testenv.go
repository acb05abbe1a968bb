// Package testenv lets tests find the external tools and services they need
// (ffmpeg, MariaDB, versitygw, Chromium): a test skips with a clear message
// when one is missing, and fails instead when CAMCLOUD_TEST_STRICT=1, as CI sets.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Strict reports whether missing tools must fail tests (CAMCLOUD_TEST_STRICT=1).
func Strict() bool { return os.Getenv("CAMCLOUD_TEST_STRICT") == "1" }

// Missing skips the test, or fails it in strict mode, saying what is missing.
func Missing(t testing.TB, what string) {
	t.Helper()
	if Strict() {
		t.Fatalf("%s is required (CAMCLOUD_TEST_STRICT=1)", what)
	}
	t.Skipf("skipping: %s is not available (set CAMCLOUD_TEST_STRICT=1 to fail instead)", what)
}

// Tool returns the path of an executable on PATH, or skips/fails the test.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name+" (not on PATH)")
	}
	return p
}

// Env returns the value of an environment variable, or skips/fails the test.
func Env(t testing.TB, name, what string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		Missing(t, what+" ("+name+" is not set)")
	}
	return v
}
