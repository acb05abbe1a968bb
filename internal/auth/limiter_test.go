package auth

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLimiterBurstAndRefill(t *testing.T) {
	l := NewLimiter(6, 3, 100) // one attempt every 10 s after a burst of 3
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	steps := []struct {
		after time.Duration
		key   string
		want  bool
	}{
		{0, "a", true},
		{0, "a", true},
		{0, "a", true},
		{0, "a", false}, // burst spent
		{0, "b", true},  // other keys are independent
		{5 * time.Second, "a", false},
		{5 * time.Second, "a", true}, // 10 s later: one token back
		{0, "a", false},
		{30 * time.Second, "a", true},
	}
	for i, s := range steps {
		now = now.Add(s.after)
		if got := l.Allow(s.key, now); got != s.want {
			t.Fatalf("step %d: Allow(%q) = %v; want %v", i, s.key, got, s.want)
		}
	}
}

func TestLimiterReset(t *testing.T) {
	l := NewLimiter(1, 2, 10)
	now := time.Unix(1000, 0)
	l.Allow("acct", now)
	l.Allow("acct", now)
	if l.Allow("acct", now) {
		t.Fatal("third attempt allowed")
	}
	l.Reset("acct")
	if !l.Allow("acct", now) {
		t.Fatal("attempt after Reset refused")
	}
	l.Reset("never seen") // no panic
}

func TestLimiterBoundedMemory(t *testing.T) {
	l := NewLimiter(1, 1, 50)
	now := time.Unix(1000, 0)
	for i := range 1000 {
		l.Allow(fmt.Sprintf("k%d", i), now)
		if n := l.Len(); n > 50 {
			t.Fatalf("limiter holds %d keys; max 50", n)
		}
	}
	// Recently used keys are kept (still limited), the oldest were evicted.
	if l.Allow("k999", now) {
		t.Error("most recent key forgot its spent budget")
	}
	if !l.Allow("k0", now) {
		t.Error("evicted key still limited")
	}
	// Long keys are stored hashed.
	l.Allow(strings.Repeat("x", 10000), now)
	for k := range l.keys.byKey {
		if len(k) > maxLimiterKey {
			t.Fatalf("stored a %d-byte key", len(k))
		}
	}
	if l.Allow(strings.Repeat("x", 10000), now) {
		t.Error("long key not limited")
	}
}

func TestLimiterDropsIdleKeys(t *testing.T) {
	l := NewLimiter(60, 5, 100) // refills fully in 5 s
	now := time.Unix(1000, 0)
	for i := range 20 {
		l.Allow(fmt.Sprint(i), now)
	}
	l.Allow("late", now.Add(4*time.Second))
	l.Allow("later", now.Add(6*time.Second))
	if n := l.Len(); n != 2 {
		t.Fatalf("Len = %d after idle keys refilled; want 2", n)
	}
}

func TestLimiterClampsArguments(t *testing.T) {
	l := NewLimiter(0, 0, 0)
	now := time.Unix(1000, 0)
	if !l.Allow("a", now) || l.Allow("a", now) {
		t.Fatal("clamped limiter should allow exactly one attempt at once")
	}
	if !l.Allow("a", now.Add(time.Minute)) {
		t.Fatal("clamped limiter should refill once a minute")
	}
}

func TestLimiterConcurrent(t *testing.T) {
	l := NewLimiter(60, 10, 1000)
	now := time.Unix(1000, 0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				ok := l.Allow("shared", now)
				l.Allow(fmt.Sprint(g, i), now)
				if ok {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if allowed != 10 {
		t.Fatalf("%d concurrent attempts allowed; want exactly the burst of 10", allowed)
	}
	if n := l.Len(); n != 201 {
		t.Fatalf("Len = %d; want 201", n)
	}
}
