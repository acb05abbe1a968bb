package audit

import (
	"context"
	"fmt"

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
// with no holes, that each entry's Hash matches its fields, and that each
// PrevHash is the previous entry's Hash. It returns how many entries passed;
// the first bad entry is reported as a *BadEntryError.
//
// The chain shows changed and removed rows; it cannot show the newest rows
// being cut off the end, so compare the returned count (or the last hash)
// with one noted elsewhere to detect that.
func Verify(ctx context.Context, dir store.Directory) (checked int64, err error) {
	var prev store.AuditEntry // Seq 0, Hash "": what the first entry follows
	var bad *BadEntryError
	scanErr := dir.ScanAudit(ctx, func(e store.AuditEntry) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		bad = check(prev, e)
		if bad != nil {
			return bad
		}
		prev = e
		checked++
		return nil
	})
	if bad != nil {
		return checked, bad
	}
	if scanErr != nil {
		return checked, fmt.Errorf("audit: reading the log: %w", scanErr)
	}
	return checked, nil
}

// check tests e against the entry before it (prev.Seq 0 for the first).
func check(prev, e store.AuditEntry) *BadEntryError {
	switch {
	case e.Seq <= prev.Seq:
		return &BadEntryError{Seq: e.Seq, Reason: fmt.Sprintf("out of order (follows %d)", prev.Seq)}
	case e.Seq > prev.Seq+1 && prev.Seq == 0:
		return &BadEntryError{Seq: 1, Reason: fmt.Sprintf("missing (row removed); the log starts at %d", e.Seq)}
	case e.Seq > prev.Seq+1:
		return &BadEntryError{Seq: prev.Seq + 1,
			Reason: fmt.Sprintf("missing (row removed); %d is followed by %d", prev.Seq, e.Seq)}
	case ComputeHash(e) != e.Hash:
		return &BadEntryError{Seq: e.Seq, Reason: "hash mismatch (row changed)"}
	case e.PrevHash != prev.Hash:
		if prev.Seq == 0 {
			return &BadEntryError{Seq: e.Seq, Reason: "first entry has a previous hash (chain rewritten)"}
		}
		return &BadEntryError{Seq: e.Seq,
			Reason: fmt.Sprintf("previous hash does not match entry %d (entry %d or %d rewritten)", prev.Seq, prev.Seq, e.Seq)}
	}
	return nil
}
