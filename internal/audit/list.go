package audit

import (
	"context"

	"github.com/camcloud/camcloud/internal/store"
)

// List returns the entries matching f, newest first, for the audit route
// (which decides f.OrgIDs from what the caller may read).
func (l *Log) List(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	return l.dir.ListAudit(ctx, f)
}
