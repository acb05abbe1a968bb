package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/camcloud/camcloud/internal/store"
)

// Record writes an audit entry for what rq did through r; a failure to
// audit fails loudly in the log but does not undo the change already made.
// r must be served by a Router (whose audit log receives the entry).
func Record(r *http.Request, rq *Request, action, target, orgID, cameraID, detail string) {
	e := store.AuditEntry{Actor: rq.User.Email, Address: rq.Addr, Action: action, Target: target,
		OrgID: orgID, CameraID: cameraID, Detail: detail}
	if rq.P != nil && rq.P.ActingOrgID != "" {
		e.ActorAs = rq.P.ActingRole + "@" + rq.P.ActingOrgID
	}
	rt := fromContext(r.Context())
	if rt == nil || rt.cfg.Audit == nil {
		logger(r).Error("audit write failed: no audit log serves this request", "action", action, "target", target)
		return
	}
	if _, err := rt.cfg.Audit.RecordDetached(r.Context(), e); err != nil { // the change is made: record it even if the client left
		rt.log.Error("audit write failed", "action", action, "target", target, "err", err)
	}
}

// logger is the log of the Router serving r, or slog's default.
func logger(r *http.Request) *slog.Logger {
	if rt := fromContext(r.Context()); rt != nil {
		return rt.log
	}
	return slog.Default()
}
