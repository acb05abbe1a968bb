package testenv

import (
	"testing"
	"time"
)

// WaitFor polls cond every millisecond until it holds, failing the test
// after 30 s; what names the wait in the failure. It is Eventually for
// conditions that change fast (a spool commit, a reader attaching).
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	poll(t, 30*time.Second, time.Millisecond, what, cond)
}

// poll checks cond every interval until it holds, failing the test after d.
func poll(t testing.TB, d, interval time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(interval)
	}
}

// Eventually polls cond every 20 ms until it holds, failing the test after
// d; what names the wait in the failure.
func Eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	poll(t, d, 20*time.Millisecond, what, cond)
}
