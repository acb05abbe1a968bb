package audit

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/store"
)

func testKey(t *testing.T) Key {
	t.Helper()
	k, err := NewKey([]byte(strings.Repeat("audit-key-", 4)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// keyedLog is a keyed log over dir with newTestLog's clock.
func keyedLog(dir store.Directory, k Key) *Log {
	l := newTestLog(dir)
	l.key = k
	return l
}

func testBlobs(t *testing.T) blob.Store {
	t.Helper()
	bs, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return bs
}

// rechain recomputes, as an intruder without the key would, the unkeyed
// hashes and links of every entry from seq on.
func (m *memDir) rechain(from int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	prev := m.entries[from-1].Hash
	for seq := from; ; seq++ {
		e, ok := m.entries[seq]
		if !ok {
			return
		}
		e.PrevHash = prev
		e.Hash = ComputeHash(e)
		m.entries[seq] = e
		prev = e.Hash
	}
}

// swap exchanges the places of entries a and b in the log.
func (m *memDir) swap(a, b int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ea, eb := m.entries[a], m.entries[b]
	ea.Seq, eb.Seq = b, a
	m.entries[a], m.entries[b] = eb, ea
}

// verifyWithLatest verifies dir with k against the newest checkpoint in bs.
func verifyWithLatest(t *testing.T, dir store.Directory, bs blob.Store, k Key) (Result, error) {
	t.Helper()
	cp, err := LatestCheckpoint(context.Background(), bs, k)
	if err != nil {
		return Result{}, err
	}
	return Verifier{Key: k, Checkpoint: cp}.Verify(context.Background(), dir)
}

// TestKeyedChainDetectsRewrites: an intruder with write access to the
// database (but not the key) edits, deletes, reorders or cuts entries and
// recomputes the chain as the unkeyed rule allows; the keyed verification
// against the latest checkpoint fails every time, naming the entry, where
// the unkeyed rule alone is satisfied by most of them.
func TestKeyedChainDetectsRewrites(t *testing.T) {
	k := testKey(t)
	for _, tc := range []struct {
		name    string
		tamper  func(m *memDir)
		wantSeq int64
		wantMsg string
	}{
		{"untouched", func(*memDir) {}, 0, ""},
		{"detail changed, chain recomputed", func(m *memDir) {
			m.edit(3, func(e *store.AuditEntry) { e.Detail = "nothing happened" })
			m.rechain(3)
		}, 3, "unkeyed hash after keyed entry 1"},
		{"whole log recomputed", func(m *memDir) {
			m.edit(2, func(e *store.AuditEntry) { e.Actor = "someone else" })
			m.rechain(1)
		}, 1, "has entries keyed from 1"},
		{"row removed, renumbered, recomputed", func(m *memDir) {
			for seq := int64(4); seq < 6; seq++ {
				next := m.entries[seq+1]
				next.Seq = seq
				m.entries[seq] = next
			}
			m.remove(6)
			m.rechain(1)
		}, 1, "has entries keyed from 1"},
		{"two rows swapped, recomputed", func(m *memDir) { m.swap(2, 3); m.rechain(2) },
			2, "unkeyed hash after keyed entry 1"},
		{"two rows swapped", func(m *memDir) { m.swap(2, 3) }, 2, "hash mismatch"},
		{"newest rows cut off", func(m *memDir) { m.remove(6); m.remove(5) },
			5, "missing (log truncated): the signed checkpoint of"},
		{"newest row rewritten", func(m *memDir) {
			m.edit(6, func(e *store.AuditEntry) { e.Action = "camera.view" })
			m.rechain(6)
		}, 6, "unkeyed hash after keyed entry 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dir := newMemDir()
			bs := testBlobs(t)
			record(t, keyedLog(dir, k), 6)
			if _, err := (&Publisher{Dir: dir, Store: bs, Key: k}).Publish(ctx); err != nil {
				t.Fatal(err)
			}
			tc.tamper(dir)
			res, err := verifyWithLatest(t, dir, bs, k)
			if tc.wantSeq == 0 {
				if err != nil || res.Checked != 6 || res.Unkeyed != 0 || res.KeyedFrom != 1 {
					t.Fatalf("Verify = %+v, %v", res, err)
				}
				return
			}
			var bad *BadEntryError
			if !errors.As(err, &bad) || bad.Seq != tc.wantSeq || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("Verify = %v; want entry %d: %q", err, tc.wantSeq, tc.wantMsg)
			}
		})
	}
}

// TestCheckpointForged: a checkpoint not signed with the key, or renamed,
// fails the verification rather than being trusted or skipped.
func TestCheckpointForged(t *testing.T) {
	ctx := context.Background()
	k := testKey(t)
	dir := newMemDir()
	bs := testBlobs(t)
	record(t, keyedLog(dir, k), 3)
	cp, err := (&Publisher{Dir: dir, Store: bs, Key: k}).Publish(ctx)
	if err != nil || cp == nil || cp.Seq != 3 {
		t.Fatalf("Publish = %+v, %v", cp, err)
	}
	other, _ := NewKey([]byte(strings.Repeat("other-key-", 4)))
	forged := Checkpoint{Seq: 2, Head: dir.entries[2].Hash, KeyedFrom: 1, Time: time.Now().Add(time.Hour)}.Sign(other)
	forged.Seq = 9 // lists after the real one
	if err := PutCheckpoint(ctx, bs, forged); err != nil {
		t.Fatal(err)
	}
	if _, err := LatestCheckpoint(ctx, bs, k); !errors.Is(err, ErrBadCheckpoint) {
		t.Fatalf("LatestCheckpoint = %v; want ErrBadCheckpoint", err)
	}
}

// TestUnkeyedEntriesBeforeTheKey: a log written before it had a key keeps
// verifying, and once keyed entries follow, rewriting the old ones is seen
// through the first keyed entry's link.
func TestUnkeyedEntriesBeforeTheKey(t *testing.T) {
	ctx := context.Background()
	k := testKey(t)
	dir := newMemDir()
	bs := testBlobs(t)
	record(t, newTestLog(dir), 3)
	p := &Publisher{Dir: dir, Store: bs, Key: k}
	if cp, err := p.Publish(ctx); err != nil || cp.KeyedFrom != 0 || cp.Seq != 3 {
		t.Fatalf("Publish over an unkeyed log = %+v, %v", cp, err)
	}
	record(t, keyedLog(dir, k), 3)
	if cp, err := p.Publish(ctx); err != nil || cp.KeyedFrom != 4 || cp.Seq != 6 {
		t.Fatalf("Publish = %+v, %v", cp, err)
	}
	res, err := verifyWithLatest(t, dir, bs, k)
	if err != nil || res.Checked != 6 || res.Unkeyed != 3 || res.KeyedFrom != 4 {
		t.Fatalf("Verify = %+v, %v", res, err)
	}
	dir.edit(2, func(e *store.AuditEntry) { e.Detail = "edited" })
	dir.rechain(2) // also turns 4..6 unkeyed
	_, err = verifyWithLatest(t, dir, bs, k)
	var bad *BadEntryError
	if !errors.As(err, &bad) || bad.Seq != 4 {
		t.Fatalf("Verify after rewriting unkeyed entries = %v; want entry 4", err)
	}
}

// TestPublisherRefusesTamperedLog: a round after tampering publishes no
// checkpoint of the tampered log, incremental or not.
func TestPublisherRefusesTamperedLog(t *testing.T) {
	ctx := context.Background()
	k := testKey(t)
	path := t.TempDir() + "/directory.db"
	dir := openSQLite(t, path)
	bs := testBlobs(t)
	l := keyedLog(dir, k)
	record(t, l, 4)
	p := &Publisher{Dir: dir, Store: bs, Key: k}
	if cp, err := p.Publish(ctx); err != nil || cp.Seq != 4 {
		t.Fatalf("first round = %+v, %v", cp, err)
	}
	record(t, l, 2)
	if cp, err := p.Publish(ctx); err != nil || cp.Seq != 6 {
		t.Fatalf("incremental round = %+v, %v", cp, err)
	}
	if cp, err := p.Publish(ctx); err != nil || cp.Seq != 6 {
		t.Fatalf("round without news = %+v, %v", cp, err)
	}
	record(t, l, 1)
	e7, err := dir.LastAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Entry 7 is replaced by a recomputed unkeyed one before the next round.
	raw := rawSQLite(t, path)
	e7.Detail = "forged"
	e7.Hash = ComputeHash(e7)
	if _, err := raw.ExecContext(ctx, "UPDATE audit_log SET detail = ?, hash = ? WHERE seq = 7", e7.Detail, e7.Hash); err != nil {
		t.Fatal(err)
	}
	var bad *BadEntryError
	if _, err := p.Publish(ctx); !errors.As(err, &bad) || bad.Seq != 7 {
		t.Fatalf("round over a tampered entry = %v; want entry 7", err)
	}
	fresh := &Publisher{Dir: dir, Store: bs, Key: k} // another node, full verification
	if _, err := fresh.Publish(ctx); !errors.As(err, &bad) || bad.Seq != 7 {
		t.Fatalf("full round over a tampered entry = %v; want entry 7", err)
	}
	if cp, err := LatestCheckpoint(ctx, bs, k); err != nil || cp.Seq != 6 {
		t.Fatalf("latest checkpoint %+v, %v; want the one of entry 6", cp, err)
	}
}

// TestRecordDetached: the entry is written although the request's context
// is already cancelled (the client went away after its change).
func TestRecordDetached(t *testing.T) {
	dir := newMemDir()
	l := newTestLog(dir)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.RecordDetached(ctx, entry(1)); err != nil {
		t.Fatalf("RecordDetached: %v", err)
	}
	if n, err := Verify(context.Background(), dir); n != 1 || err != nil {
		t.Fatalf("Verify = %d, %v", n, err)
	}
}

func TestResolveKey(t *testing.T) {
	dir := t.TempDir()
	if _, src, err := ResolveKey("", "", dir, false); err != nil || src != KeyNone {
		t.Fatalf("no key: %v %v", src, err)
	}
	k1, src, err := ResolveKey("", "", dir, true)
	if err != nil || src != KeyGenerated || !k1.Valid() {
		t.Fatalf("generated: %v %v", src, err)
	}
	k2, _, err := ResolveKey("", "", dir, false)
	if err != nil || string(k2.chain) != string(k1.chain) {
		t.Fatal("generated key not read back")
	}
	km, src, _ := ResolveKey("", strings.Repeat("m", 32), dir, true)
	kc, src2, _ := ResolveKey(strings.Repeat("c", 32), strings.Repeat("m", 32), dir, true)
	if src != KeyMedia || src2 != KeyConfigured || string(km.chain) == string(k1.chain) || string(kc.chain) == string(km.chain) {
		t.Fatal("precedence: audit_key > media_key > data dir file")
	}
	if _, _, err := ResolveKey("short", "", dir, true); err == nil {
		t.Fatal("short audit key accepted")
	}
}
