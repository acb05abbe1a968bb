package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/camcloud/camcloud/internal/store"
)

// BadEntryError says which audit entry breaks the chain and how.
type BadEntryError struct {
	Seq    int64  // the entry that was changed, removed or mislinked
	Reason string // e.g. "hash mismatch (row changed)"
}

// Error names the entry, e.g. "audit entry 17: hash mismatch (row changed)".
func (e *BadEntryError) Error() string {
	return fmt.Sprintf("audit entry %d: %s", e.Seq, e.Reason)
}

// Verify walks the whole log in Seq order and checks that Seq starts at 1
// with no holes, that each entry's Hash matches its fields under the
// unkeyed rule, and that each PrevHash is the previous entry's Hash. It
// returns how many entries passed; the first bad entry is reported as a
// *BadEntryError.
//
// Without a key the chain shows changed and removed rows only to someone
// who cannot recompute it, and it cannot show the newest rows being cut
// off the end: Verifier with the log's Key and its latest Checkpoint can.
func Verify(ctx context.Context, dir store.Directory) (checked int64, err error) {
	r, err := Verifier{}.Verify(ctx, dir)
	return r.Checked, err
}

// Verifier checks a log against its key and its latest signed checkpoint.
type Verifier struct {
	// Key is the log's key; zero: only the unkeyed rule is known, and
	// keyed entries fail.
	Key Key
	// Checkpoint is the latest signed checkpoint (see LatestCheckpoint);
	// nil: none, and a log cut at its end is not seen.
	Checkpoint *Checkpoint
}

// Result is what a verification found.
type Result struct {
	Checked   int64            // entries that passed
	Unkeyed   int64            // of them, entries under the unkeyed rule (written before the key)
	KeyedFrom int64            // Seq of the first keyed entry; 0: none
	Head      store.AuditEntry // the last entry that passed
}

// Verify walks the whole log in Seq order with the checks of Verify, where
// an entry passes under the keyed rule, or under the unkeyed one only
// before the first keyed entry (and before the checkpoint's KeyedFrom).
// Against the checkpoint, the entry it names must have its hash and the log
// must reach it. The first bad entry is reported as a *BadEntryError.
func (v Verifier) Verify(ctx context.Context, dir store.Directory) (Result, error) {
	c := &chain{key: v.Key, cp: v.Checkpoint}
	var bad *BadEntryError
	scanErr := dir.ScanAudit(ctx, func(e store.AuditEntry) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if bad = c.next(e); bad != nil {
			return bad
		}
		return nil
	})
	if bad != nil {
		return c.res, bad
	}
	if scanErr != nil {
		return c.res, fmt.Errorf("audit: reading the log: %w", scanErr)
	}
	if bad := c.finish(); bad != nil {
		return c.res, bad
	}
	return c.res, nil
}

// chain is the state of a walk along the log.
type chain struct {
	key  Key
	cp   *Checkpoint
	prev store.AuditEntry // Seq 0, Hash "": what the first entry follows
	res  Result
}

// resume starts a walk after the entry a verified checkpoint names.
func resume(key Key, cp Checkpoint) *chain {
	c := &chain{key: key, cp: &cp, prev: store.AuditEntry{Seq: cp.Seq, Hash: cp.Head}}
	c.res.KeyedFrom = cp.KeyedFrom
	c.res.Head = c.prev
	return c
}

// next checks e, the entry after the last one that passed.
func (c *chain) next(e store.AuditEntry) *BadEntryError {
	prev := c.prev
	switch {
	case e.Seq <= prev.Seq:
		return &BadEntryError{Seq: e.Seq, Reason: fmt.Sprintf("out of order (follows %d)", prev.Seq)}
	case e.Seq > prev.Seq+1 && prev.Seq == 0:
		return &BadEntryError{Seq: 1, Reason: fmt.Sprintf("missing (row removed); the log starts at %d", e.Seq)}
	case e.Seq > prev.Seq+1:
		return &BadEntryError{Seq: prev.Seq + 1,
			Reason: fmt.Sprintf("missing (row removed); %d is followed by %d", prev.Seq, e.Seq)}
	}
	if bad := c.checkHash(e); bad != nil {
		return bad
	}
	if e.PrevHash != prev.Hash {
		if prev.Seq == 0 {
			return &BadEntryError{Seq: e.Seq, Reason: "first entry has a previous hash (chain rewritten)"}
		}
		return &BadEntryError{Seq: e.Seq,
			Reason: fmt.Sprintf("previous hash does not match entry %d (entry %d or %d rewritten)", prev.Seq, prev.Seq, e.Seq)}
	}
	if c.cp != nil && e.Seq == c.cp.Seq && e.Hash != c.cp.Head {
		return &BadEntryError{Seq: e.Seq, Reason: "differs from the signed checkpoint of " + c.cp.stamp() + " (history rewritten)"}
	}
	c.prev = e
	c.res.Checked++
	c.res.Head = e
	return nil
}

// checkHash checks e's Hash under the keyed rule, or the unkeyed one where
// that is still allowed.
func (c *chain) checkHash(e store.AuditEntry) *BadEntryError {
	if c.key.Valid() && ComputeKeyedHash(c.key, e) == e.Hash {
		if c.res.KeyedFrom == 0 {
			c.res.KeyedFrom = e.Seq
		}
		return nil
	}
	switch {
	case ComputeHash(e) != e.Hash:
		return &BadEntryError{Seq: e.Seq, Reason: "hash mismatch (row changed)"}
	case c.res.KeyedFrom > 0:
		return &BadEntryError{Seq: e.Seq,
			Reason: fmt.Sprintf("unkeyed hash after keyed entry %d (row rewritten without the key)", c.res.KeyedFrom)}
	case c.cp != nil && c.cp.KeyedFrom > 0 && e.Seq >= c.cp.KeyedFrom:
		return &BadEntryError{Seq: e.Seq, Reason: fmt.Sprintf("unkeyed hash, but the signed checkpoint of %s has entries keyed from %d (row rewritten without the key)",
			c.cp.stamp(), c.cp.KeyedFrom)}
	}
	c.res.Unkeyed++
	return nil
}

// finish checks, at the end of the log, that it reaches the checkpoint.
func (c *chain) finish() *BadEntryError {
	if c.cp == nil || c.prev.Seq >= c.cp.Seq {
		return nil
	}
	return &BadEntryError{Seq: c.prev.Seq + 1, Reason: fmt.Sprintf("missing (log truncated): the signed checkpoint of %s covers %d entries, the log ends at %d",
		c.cp.stamp(), c.cp.Seq, c.prev.Seq)}
}

// stamp is the checkpoint's time for messages.
func (cp *Checkpoint) stamp() string { return cp.Time.UTC().Format(time.RFC3339) }
