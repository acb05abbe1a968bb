package audit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/store"
)

// incrementalWindow is how many of the newest entries a round reads to
// extend its last checkpoint; when more were written since, the round
// verifies the whole log instead.
const incrementalWindow = 10000

// Publisher verifies the log and publishes signed checkpoints of its head
// to an object store, so that `camcloud audit verify` can tell when
// entries were cut off the end or the log was rewritten as a whole. Only
// a log that verifies is checkpointed: the first round verifies the whole
// log against the newest checkpoint in the store, later rounds the entries
// written since the previous round. Several nodes may publish to one store.
type Publisher struct {
	Dir   store.Directory
	Store blob.Store
	Key   Key
	Log   *slog.Logger

	last *Checkpoint // the newest checkpoint this publisher verified
	now  func() time.Time
}

// Publish runs one round: it returns the checkpoint now in force (nil for
// an empty log) and publishes a new one when the log grew.
func (p *Publisher) Publish(ctx context.Context) (*Checkpoint, error) {
	if !p.Key.Valid() {
		return nil, errors.New("audit: checkpoints need a key")
	}
	head, err := p.Dir.LastAudit(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return p.last, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: reading last entry: %w", err)
	}
	if p.last != nil && head.Seq == p.last.Seq && head.Hash == p.last.Head {
		return p.last, nil
	}
	res, err := p.verify(ctx)
	if err != nil {
		return nil, err
	}
	if p.last != nil && res.Head.Seq == p.last.Seq && res.Head.Hash == p.last.Head {
		return p.last, nil
	}
	now := time.Now
	if p.now != nil {
		now = p.now
	}
	cp := Checkpoint{Seq: res.Head.Seq, Head: res.Head.Hash, KeyedFrom: res.KeyedFrom, Time: now()}.Sign(p.Key)
	if err := PutCheckpoint(ctx, p.Store, cp); err != nil {
		return nil, fmt.Errorf("audit: publishing checkpoint: %w", err)
	}
	p.last = &cp
	return &cp, nil
}

// verify checks what was written since the last checkpoint, or the whole
// log against the newest stored one, and returns what passed.
func (p *Publisher) verify(ctx context.Context) (Result, error) {
	if p.last == nil {
		cp, err := LatestCheckpoint(ctx, p.Store, p.Key)
		if err != nil {
			return Result{}, err
		}
		p.last = cp
		return Verifier{Key: p.Key, Checkpoint: cp}.Verify(ctx, p.Dir)
	}
	es, err := p.Dir.ListAudit(ctx, store.AuditFilter{Limit: incrementalWindow})
	if err != nil {
		return Result{}, fmt.Errorf("audit: reading new entries: %w", err)
	}
	slices.Reverse(es) // oldest first
	i, _ := slices.BinarySearchFunc(es, p.last.Seq+1, func(e store.AuditEntry, seq int64) int { return cmp.Compare(e.Seq, seq) })
	if i >= len(es) || es[i].Seq != p.last.Seq+1 {
		return Verifier{Key: p.Key, Checkpoint: p.last}.Verify(ctx, p.Dir)
	}
	c := resume(p.Key, *p.last)
	for _, e := range es[i:] {
		if bad := c.next(e); bad != nil {
			return c.res, bad
		}
	}
	return c.res, nil
}

// Run publishes at once, then every interval, and once more when ctx ends
// (within 10 s), until ctx ends. A log that does not verify is logged as
// an error at every round and not checkpointed.
func (p *Publisher) Run(ctx context.Context, every time.Duration) {
	log := p.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	round := func(ctx context.Context) {
		cp, err := p.Publish(ctx)
		var bad *BadEntryError
		switch {
		case errors.As(err, &bad), errors.Is(err, ErrBadCheckpoint):
			log.Error("audit log does not verify: no checkpoint published", "err", err)
		case err != nil:
			log.Warn("audit checkpoint not published", "err", err)
		case cp != nil:
			log.Debug("audit checkpoint", "seq", cp.Seq)
		}
	}
	round(ctx)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			round(fctx)
			cancel()
			return
		case <-t.C:
			round(ctx)
		}
	}
}
