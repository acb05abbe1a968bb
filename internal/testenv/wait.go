package testenv

import (
	"testing"
	"time"
)

// WaitFor polls cond every millisecond until it holds, failing the test
// after 30 s; what names the wait in the failure.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
