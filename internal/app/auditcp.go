package app

import (
	"context"
	"fmt"

	"github.com/camcloud/camcloud/internal/audit"
)

// auditKey resolves the audit key (audit_key, else derived from media_key,
// else generated into the data directory) and says where it came from.
func (a *App) auditKey() (audit.Key, error) {
	k, src, err := audit.ResolveKey(a.Cfg.AuditKey, a.Cfg.MediaKey, a.Cfg.DataDir, true)
	if err != nil {
		return k, fmt.Errorf("audit key: %w", err)
	}
	a.Log.Debug("audit key", "source", string(src))
	return k, nil
}

// startAuditCheckpoints publishes signed checkpoints of the audit log to
// the first zone's object store every audit_checkpoint_interval, and once
// more when the process stops (before the databases close).
func (a *App) startAuditCheckpoints(ctx context.Context) error {
	z, err := a.Zones.Get(a.Cfg.Zones[0].Name)
	if err != nil {
		return fmt.Errorf("audit checkpoints: %w", err)
	}
	p := &audit.Publisher{Dir: a.Dir, Store: z.Blobs, Key: a.AuditKey, Log: a.Log}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx, a.Cfg.AuditCheckpointInterval) }()
	a.closers = append(a.closers, func() { cancel(); <-done })
	return nil
}
