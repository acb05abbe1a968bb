package audit

import (
	"context"
	"sort"
	"sync"

	"github.com/camcloud/camcloud/internal/store"
)

// memDir is an in-memory store.Directory holding only the audit log; the
// embedded interface makes it compile, and any other method panics.
type memDir struct {
	store.Directory
	mu      sync.Mutex
	entries map[int64]store.AuditEntry
	// beforeAppend, when set, runs at the start of AppendAudit (to inject
	// another node's write).
	beforeAppend func(m *memDir)
	appends      int
}

func newMemDir() *memDir { return &memDir{entries: map[int64]store.AuditEntry{}} }

func (m *memDir) AppendAudit(_ context.Context, e store.AuditEntry) error {
	m.mu.Lock()
	hook := m.beforeAppend
	m.appends++
	m.mu.Unlock()
	if hook != nil {
		hook(m)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.entries[e.Seq]; ok {
		return store.ErrConflict
	}
	m.entries[e.Seq] = e
	return nil
}

func (m *memDir) LastAudit(context.Context) (store.AuditEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var last store.AuditEntry
	for _, e := range m.entries {
		if e.Seq > last.Seq {
			last = e
		}
	}
	if last.Seq == 0 {
		return last, store.ErrNotFound
	}
	return last, nil
}

func (m *memDir) ListAudit(context.Context, store.AuditFilter) ([]store.AuditEntry, error) {
	return m.sorted(), nil
}

func (m *memDir) ScanAudit(_ context.Context, fn func(store.AuditEntry) error) error {
	for _, e := range m.sorted() {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

func (m *memDir) sorted() []store.AuditEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]store.AuditEntry, 0, len(m.entries))
	for _, e := range m.entries {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

// edit changes the stored entry seq in place, as someone with database
// access could.
func (m *memDir) edit(seq int64, f func(*store.AuditEntry)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entries[seq]
	f(&e)
	m.entries[seq] = e
}

func (m *memDir) remove(seq int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.entries, seq)
}
