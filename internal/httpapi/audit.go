package httpapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/camcloud/camcloud/internal/store"
)

// Record writes an audit entry for what rq did through r; a failure to
// audit fails loudly in the log but does not undo the change already made.
// r must be served by a Router (whose audit log receives the entry).
func Record(r *http.Request, rq *Request, action, target, orgID, cameraID, detail string) {
	e := Entry(rq, action, target, orgID, cameraID, detail)
	rt := fromContext(r.Context())
	if rt == nil || rt.cfg.Audit == nil {
		logger(r).Error("audit write failed: no audit log serves this request", "action", action, "target", target)
		return
	}
	rt.RecordEntry(r.Context(), e)
}

// Entry is the audit entry of what rq did, for a caller that writes it
// later (RecordEntry), as live viewings are written when they end.
func Entry(rq *Request, action, target, orgID, cameraID, detail string) store.AuditEntry {
	e := store.AuditEntry{Actor: rq.User.Email, Address: rq.Addr, Action: action, Target: target,
		OrgID: orgID, CameraID: cameraID, Detail: detail}
	if rq.P != nil && rq.P.ActingOrgID != "" {
		e.ActorAs = rq.P.ActingRole + "@" + rq.P.ActingOrgID
	}
	return e
}

// RecordEntry writes e to rt's audit log even when ctx ends meanwhile
// (the change is made: it is recorded even if the client left); a failure
// is logged.
func (rt *Router) RecordEntry(ctx context.Context, e store.AuditEntry) {
	if rt.cfg.Audit == nil {
		rt.log.Error("audit write failed: the router has no audit log", "action", e.Action, "target", e.Target)
		return
	}
	if _, err := rt.cfg.Audit.RecordDetached(ctx, e); err != nil {
		rt.log.Error("audit write failed", "action", e.Action, "target", e.Target, "err", err)
	}
}

// logger is the log of the Router serving r, or slog's default.
func logger(r *http.Request) *slog.Logger {
	if rt := fromContext(r.Context()); rt != nil {
		return rt.log
	}
	return slog.Default()
}

// AgentRequest is the audit identity of an edge agent's call (actor
// "site:ID"), for the routes that authenticate a site credential
// themselves (they are public to the Router).
func AgentRequest(r *http.Request, siteID string) *Request {
	return &Request{User: store.User{Email: "site:" + siteID}, Addr: ClientAddr(r)}
}
