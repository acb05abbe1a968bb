package audit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/store"
)

// newTestLog returns a Log over dir whose clock starts at a fixed instant
// (with sub-microsecond digits) and advances 1.5 s per entry.
func newTestLog(dir store.Directory) *Log {
	l := New(dir, nil)
	var mu sync.Mutex
	t := time.Date(2025, 5, 4, 3, 2, 1, 987654321, time.FixedZone("JST", 9*3600))
	l.now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(1500 * time.Millisecond)
		return t
	}
	return l
}

func entry(i int) store.AuditEntry {
	return store.AuditEntry{
		Actor: fmt.Sprintf("user%d", i), Address: "127.0.0.1", Action: "camera.live",
		Target: "camera/cam1", OrgID: "org1", CameraID: "cam1", Detail: fmt.Sprintf(`{"n":%d}`, i),
	}
}

// record adds n entries and fails the test on error.
func record(t *testing.T, l *Log, n int) []store.AuditEntry {
	t.Helper()
	var out []store.AuditEntry
	for i := range n {
		e, err := l.Record(context.Background(), entry(i))
		if err != nil {
			t.Fatalf("Record %d: %v", i, err)
		}
		out = append(out, e)
	}
	return out
}

func TestRecordChainsEntries(t *testing.T) {
	dir := newMemDir()
	l := newTestLog(dir)
	in := entry(0)
	in.Seq, in.PrevHash, in.Hash = 99, "forged", "forged" // ignored
	first, err := l.Record(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	rest := record(t, l, 4)
	all := append([]store.AuditEntry{first}, rest...)
	prevHash := ""
	for i, e := range all {
		if e.Seq != int64(i+1) {
			t.Errorf("entry %d has Seq %d", i, e.Seq)
		}
		if e.PrevHash != prevHash {
			t.Errorf("entry %d PrevHash %q; want %q", e.Seq, e.PrevHash, prevHash)
		}
		if e.Hash != ComputeHash(e) || len(e.Hash) != 64 {
			t.Errorf("entry %d Hash %q is not ComputeHash", e.Seq, e.Hash)
		}
		if e.Time.Location() != time.UTC || e.Time.Nanosecond()%1000 != 0 {
			t.Errorf("entry %d Time %v not UTC microseconds", e.Seq, e.Time)
		}
		if stored := dir.entries[e.Seq]; stored != e {
			t.Errorf("entry %d stored differs from returned:\n %+v\n %+v", e.Seq, stored, e)
		}
		prevHash = e.Hash
	}
	if first.Actor != "user0" || first.Detail != `{"n":0}` {
		t.Errorf("caller fields lost: %+v", first)
	}
	n, err := Verify(context.Background(), dir)
	if err != nil || n != 5 {
		t.Fatalf("Verify = %d, %v; want 5, nil", n, err)
	}
}

func TestRecordCleansInput(t *testing.T) {
	l := newTestLog(newMemDir())
	ctx := context.Background()
	for name, e := range map[string]store.AuditEntry{
		"no action":     {Actor: "u"},
		"long actor":    {Action: "a", Actor: strings.Repeat("x", 321)},
		"long camera":   {Action: "a", CameraID: strings.Repeat("x", 65)},
		"long detail":   {Action: "a", Detail: strings.Repeat("x", 65536)},
		"grows on fix":  {Action: "a", OrgID: strings.Repeat("\xffa", 20)}, // 40 bytes, 80 once fixed
		"long address":  {Action: "a", Address: strings.Repeat("1", 1000)},
		"long actor_as": {Action: "a", ActorAs: strings.Repeat("x", 400)},
	} {
		if _, err := l.Record(ctx, e); err == nil {
			t.Errorf("%s: Record accepted", name)
		}
	}
	e, err := l.Record(ctx, store.AuditEntry{Action: "login.failed", Actor: "bad\xffname"})
	if err != nil {
		t.Fatal(err)
	}
	if e.Actor != "bad\uFFFDname" {
		t.Errorf("Actor %q; want invalid byte replaced", e.Actor)
	}
	if e.Seq != 1 {
		t.Errorf("rejected entries consumed sequence numbers: Seq %d", e.Seq)
	}
}

func TestRecordRetriesWhenAnotherNodeWins(t *testing.T) {
	dir := newMemDir()
	l := newTestLog(dir)
	other := newTestLog(dir) // another node writing the same log
	record(t, l, 1)
	races := 3
	var hook func(m *memDir)
	hook = func(m *memDir) {
		if races == 0 {
			return
		}
		races--
		m.beforeAppend = nil // the other node's own append must not recurse
		defer func() { m.beforeAppend = hook }()
		if _, err := other.Record(context.Background(), entry(100+races)); err != nil {
			t.Errorf("other node: %v", err)
		}
	}
	dir.beforeAppend = hook
	e, err := l.Record(context.Background(), entry(7))
	if err != nil {
		t.Fatalf("Record: %v", err)
	}
	if e.Seq != 5 {
		t.Errorf("Seq %d; want 5 (1 own + 3 by the other node + this)", e.Seq)
	}
	n, err := Verify(context.Background(), dir)
	if err != nil || n != 5 {
		t.Fatalf("Verify = %d, %v; want 5, nil", n, err)
	}
}

func TestRecordGivesUp(t *testing.T) {
	dir := newMemDir()
	l := newTestLog(dir)
	// Every append finds its Seq taken.
	dir.beforeAppend = func(m *memDir) {
		m.mu.Lock()
		defer m.mu.Unlock()
		seq := int64(len(m.entries) + 1)
		m.entries[seq] = store.AuditEntry{Seq: seq}
	}
	_, err := l.Record(context.Background(), entry(1))
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Record = %v; want ErrConflict after bounded retries", err)
	}
	if dir.appends != maxAttempts {
		t.Errorf("%d append attempts; want %d", dir.appends, maxAttempts)
	}

	// A cancelled context stops the retries too.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Record(ctx, entry(2)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Record with cancelled context = %v; want context.Canceled", err)
	}
}

func TestRecordConcurrent(t *testing.T) {
	dir := newMemDir()
	l := newTestLog(dir)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				if _, err := l.Record(context.Background(), entry(g*100+i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	n, err := Verify(context.Background(), dir)
	if err != nil || n != 160 {
		t.Fatalf("Verify = %d, %v; want 160, nil", n, err)
	}
}

func TestVerifyNamesBadEntry(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tamper  func(m *memDir)
		wantSeq int64
		wantMsg string
		checked int64
	}{
		{"untouched", func(*memDir) {}, 0, "", 6},
		{"detail changed", func(m *memDir) {
			m.edit(3, func(e *store.AuditEntry) { e.Detail = "nothing happened" })
		}, 3, "audit entry 3: hash mismatch (row changed)", 2},
		{"time changed by a microsecond", func(m *memDir) {
			m.edit(5, func(e *store.AuditEntry) { e.Time = e.Time.Add(time.Microsecond) })
		}, 5, "audit entry 5: hash mismatch (row changed)", 4},
		{"actor changed and rehashed", func(m *memDir) {
			m.edit(2, func(e *store.AuditEntry) { e.Actor = "someone else"; e.Hash = ComputeHash(*e) })
		}, 3, "audit entry 3: previous hash does not match entry 2 (entry 2 or 3 rewritten)", 2},
		{"row removed", func(m *memDir) { m.remove(4) },
			4, "audit entry 4: missing (row removed); 3 is followed by 5", 3},
		{"two rows removed", func(m *memDir) { m.remove(2); m.remove(3) },
			2, "audit entry 2: missing (row removed); 1 is followed by 4", 1},
		{"first row removed", func(m *memDir) { m.remove(1) },
			1, "audit entry 1: missing (row removed); the log starts at 2", 0},
		{"first row given a previous hash", func(m *memDir) {
			m.edit(1, func(e *store.AuditEntry) { e.PrevHash = "x"; e.Hash = ComputeHash(*e) })
		}, 1, "audit entry 1: first entry has a previous hash (chain rewritten)", 0},
		{"seq renumbered to close a hole", func(m *memDir) {
			e6 := m.entries[6]
			m.remove(6)
			m.remove(5)
			e6.Seq = 5
			m.entries[5] = e6
		}, 5, "audit entry 5: hash mismatch (row changed)", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := newMemDir()
			record(t, newTestLog(dir), 6)
			tc.tamper(dir)
			n, err := Verify(context.Background(), dir)
			if n != tc.checked {
				t.Errorf("checked %d; want %d", n, tc.checked)
			}
			if tc.wantSeq == 0 {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			var bad *BadEntryError
			if !errors.As(err, &bad) {
				t.Fatalf("Verify = %v; want *BadEntryError", err)
			}
			if bad.Seq != tc.wantSeq || err.Error() != tc.wantMsg {
				t.Fatalf("Verify = %q (seq %d); want %q", err, bad.Seq, tc.wantMsg)
			}
		})
	}
}

func TestVerifyEmptyAndTruncatedLog(t *testing.T) {
	dir := newMemDir()
	if n, err := Verify(context.Background(), dir); n != 0 || err != nil {
		t.Fatalf("empty log: Verify = %d, %v", n, err)
	}
	record(t, newTestLog(dir), 3)
	dir.remove(3)
	// Cutting the newest rows keeps the chain intact; only the count shows it.
	if n, err := Verify(context.Background(), dir); n != 2 || err != nil {
		t.Fatalf("truncated log: Verify = %d, %v; want 2, nil", n, err)
	}
}

type failingScan struct{ *memDir }

func (failingScan) ScanAudit(context.Context, func(store.AuditEntry) error) error {
	return errors.New("disk on fire")
}

func TestVerifyReportsStoreErrors(t *testing.T) {
	_, err := Verify(context.Background(), failingScan{newMemDir()})
	var bad *BadEntryError
	if err == nil || errors.As(err, &bad) || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("Verify = %v; want the store's error, not a bad entry", err)
	}
}

func TestComputeHash(t *testing.T) {
	base := store.AuditEntry{
		Seq: 7, Time: time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC), Actor: "ab", ActorAs: "",
		Address: "10.0.0.1", Action: "camera.update", Target: "camera/c", OrgID: "o", CameraID: "c",
		Detail: "d", PrevHash: "p",
	}
	h := ComputeHash(base)
	if h != ComputeHash(base) {
		t.Fatal("not deterministic")
	}
	same := base
	same.Time = base.Time.In(time.FixedZone("X", -5*3600))
	same.Hash = "ignored"
	if ComputeHash(same) != h {
		t.Error("hash depends on the time zone or on Hash")
	}
	changes := map[string]func(e *store.AuditEntry){
		"seq":             func(e *store.AuditEntry) { e.Seq = 8 },
		"time":            func(e *store.AuditEntry) { e.Time = e.Time.Add(time.Microsecond) },
		"actor":           func(e *store.AuditEntry) { e.Actor = "ac" },
		"actor_as":        func(e *store.AuditEntry) { e.ActorAs = "x" },
		"address":         func(e *store.AuditEntry) { e.Address = "10.0.0.2" },
		"action":          func(e *store.AuditEntry) { e.Action = "camera.delete" },
		"target":          func(e *store.AuditEntry) { e.Target = "camera/d" },
		"org":             func(e *store.AuditEntry) { e.OrgID = "o2" },
		"camera":          func(e *store.AuditEntry) { e.CameraID = "c2" },
		"detail":          func(e *store.AuditEntry) { e.Detail = "" },
		"prev":            func(e *store.AuditEntry) { e.PrevHash = "q" },
		"shift boundary":  func(e *store.AuditEntry) { e.Actor, e.ActorAs = "a", "b" },
		"shift to detail": func(e *store.AuditEntry) { e.CameraID, e.Detail = "", "cd" },
	}
	for name, f := range changes {
		e := base
		f(&e)
		if ComputeHash(e) == h {
			t.Errorf("changing %s keeps the hash", name)
		}
	}
}
