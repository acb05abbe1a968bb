// Package audit keeps camcloud's tamper-evident audit log: every change and
// every media access is recorded as a store.AuditEntry whose Hash covers its
// own fields and the previous entry's hash, so a changed or removed row breaks
// the chain and Verify names it. The hash is an HMAC under a key kept out of
// the database (Key), so that whoever can write to the database cannot
// recompute the chain after editing it; and signed checkpoints of the head,
// published to an object store (Publisher), show history cut off the end or
// rewritten as a whole.
package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/camcloud/camcloud/internal/store"
)

// Field bounds, matching what the directory database stores.
const (
	maxIDField    = 64
	maxShortField = 320
	maxLongField  = 65535
	// maxAttempts bounds retries when other nodes keep taking the next Seq.
	// Eight with a linear back-off (28 ms in all) was too few: in CI, under
	// the race detector on a loaded machine, one of two nodes appending in
	// a tight loop lost all eight to the other (TestSQLiteTwoNodes).
	maxAttempts = 20
	// maxBackoff caps the random wait before a retry.
	maxBackoff = 64 * time.Millisecond
)

// Log records audit entries into a directory store, chaining each to the
// last. One Log per process; it is safe for concurrent use, and several
// processes may write to one directory (a lost race on Seq is retried).
type Log struct {
	dir store.Directory
	log *slog.Logger
	now func() time.Time
	key Key // zero: entries are chained unkeyed (ComputeHash)

	mu sync.Mutex // serialises Record within the process
}

// New returns a Log writing to dir with unkeyed hashes (ComputeHash), as
// logs were written before they had a key. log may be nil.
func New(dir store.Directory, log *slog.Logger) *Log {
	return NewKeyed(dir, log, Key{})
}

// NewKeyed returns a Log writing to dir whose entries are hashed with
// ComputeKeyedHash under key (unkeyed when key is the zero Key).
func NewKeyed(dir store.Directory, log *slog.Logger, key Key) *Log {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Log{dir: dir, log: log, now: time.Now, key: key}
}

// recordTimeout bounds RecordDetached.
const recordTimeout = 10 * time.Second

// RecordDetached is Record for request handlers: the entry is written even
// when ctx is cancelled (the client went away after its change was made),
// within recordTimeout; ctx's values are kept.
func (l *Log) RecordDetached(ctx context.Context, e store.AuditEntry) (store.AuditEntry, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	return l.Record(ctx, e)
}

// hash is the Hash of e under the log's rule.
func (l *Log) hash(e store.AuditEntry) string {
	if l.key.Valid() {
		return ComputeKeyedHash(l.key, e)
	}
	return ComputeHash(e)
}

// Record appends e to the log and returns it as stored. Callers fill Actor,
// ActorAs, Address, Action, Target, OrgID, CameraID and Detail; Record sets
// Time (now, UTC, microsecond precision as the database keeps it), Seq,
// PrevHash and Hash, overwriting whatever the caller put there. Invalid
// UTF-8 is replaced by U+FFFD so the stored text is the hashed text.
func (l *Log) Record(ctx context.Context, e store.AuditEntry) (store.AuditEntry, error) {
	e, err := clean(e)
	if err != nil {
		return store.AuditEntry{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for attempt := 1; ; attempt++ {
		last, err := l.dir.LastAudit(ctx)
		switch {
		case errors.Is(err, store.ErrNotFound):
			last = store.AuditEntry{}
		case err != nil:
			return store.AuditEntry{}, fmt.Errorf("audit: reading last entry: %w", err)
		}
		e.Seq = last.Seq + 1
		e.PrevHash = last.Hash
		e.Time = l.now().UTC().Truncate(time.Microsecond)
		e.Hash = l.hash(e)
		err = l.dir.AppendAudit(ctx, e)
		if err == nil {
			return e, nil
		}
		if !errors.Is(err, store.ErrConflict) || attempt >= maxAttempts {
			l.log.Error("audit: entry not recorded", "action", e.Action, "seq", e.Seq, "attempt", attempt, "err", err)
			return store.AuditEntry{}, fmt.Errorf("audit: appending entry %d: %w", e.Seq, err)
		}
		l.log.Debug("audit: sequence taken by another writer, retrying", "seq", e.Seq, "attempt", attempt)
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return store.AuditEntry{}, fmt.Errorf("audit: appending entry: %w", err)
		}
	}
}

// clean bounds and sanitises the caller's fields.
func clean(e store.AuditEntry) (store.AuditEntry, error) {
	fields := []struct {
		name string
		v    *string
		max  int
	}{
		{"actor", &e.Actor, maxShortField},
		{"actor_as", &e.ActorAs, maxShortField},
		{"address", &e.Address, maxShortField},
		{"action", &e.Action, maxShortField},
		{"target", &e.Target, maxLongField},
		{"org_id", &e.OrgID, maxIDField},
		{"camera_id", &e.CameraID, maxIDField},
		{"detail", &e.Detail, maxLongField},
	}
	for _, f := range fields {
		*f.v = strings.ToValidUTF8(*f.v, "\uFFFD")
		if len(*f.v) > f.max {
			return e, fmt.Errorf("audit: %s has %d bytes, at most %d allowed", f.name, len(*f.v), f.max)
		}
	}
	if e.Action == "" {
		return e, errors.New("audit: entry has no action")
	}
	return e, nil
}

// backoff is the wait before retry attempt+1: random up to a bound that
// doubles from 1 ms to maxBackoff, so that writers racing for the next Seq
// fall out of step instead of colliding again.
func backoff(attempt int) time.Duration {
	limit := min(time.Millisecond<<min(attempt-1, 16), maxBackoff)
	return time.Duration(rand.Int64N(int64(limit))) + time.Millisecond/4
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
