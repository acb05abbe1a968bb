package audit

import (
	"context"
	"strings"

	"github.com/camcloud/camcloud/internal/store"
)

// List returns the entries matching f, newest first, for the audit route
// (which decides f.OrgIDs from what the caller may read).
func (l *Log) List(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	return l.dir.ListAudit(ctx, f)
}

// maxNames bounds the names one listing looks up (one point read each).
const maxNames = 500

// Names gives the entries' targets and cameras the names a reader knows
// them by: "camera:ID" its camera's name, "user:ID" the user's email,
// "org:ID" the organisation's name, looked up now (a renamed camera shows
// its current name). Targets that are gone (a deleted camera) or of other
// kinds are absent; so are those past the first maxNames distinct ones.
func (l *Log) Names(ctx context.Context, es []store.AuditEntry) map[string]string {
	out := map[string]string{}
	tried := map[string]bool{}
	lookup := func(target string) {
		if target == "" || tried[target] || len(tried) >= maxNames {
			return
		}
		tried[target] = true
		kind, id, _ := strings.Cut(target, ":")
		var name string
		switch kind {
		case "camera":
			if c, err := l.dir.GetCamera(ctx, id); err == nil {
				name = c.Name
			}
		case "user":
			if u, err := l.dir.GetUser(ctx, id); err == nil {
				name = u.Email
			}
		case "org":
			if o, err := l.dir.GetOrg(ctx, id); err == nil {
				name = o.Name
			}
		}
		if name != "" {
			out[target] = name
		}
	}
	for _, e := range es {
		lookup(e.Target)
		if e.CameraID != "" {
			lookup("camera:" + e.CameraID)
		}
	}
	return out
}
