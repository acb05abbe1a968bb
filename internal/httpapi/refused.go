package httpapi

import (
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/camcloud/camcloud/internal/cameras"
	"github.com/camcloud/camcloud/internal/store"
)

// Refused requests are audited, but one principal probing camera ids must
// not flood the log: each actor may leave refusedBurst entries at once and
// one more every refusedEvery; the rest are only logged at debug level.
const (
	refusedBurst  = 5
	refusedEvery  = time.Minute
	refusedActors = 4096 // actors followed at once; the table restarts when full
)

// refusals rate-limits the audit entries of refused requests per actor.
type refusals struct {
	mu     sync.Mutex
	actors map[string]*rate.Limiter
}

// allow reports whether actor may leave another audit entry now.
func (f *refusals) allow(actor string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.actors == nil || len(f.actors) >= refusedActors {
		f.actors = map[string]*rate.Limiter{}
	}
	l, ok := f.actors[actor]
	if !ok {
		l = rate.NewLimiter(rate.Every(refusedEvery), refusedBurst)
		f.actors[actor] = l
	}
	return l.Allow()
}

// recordRefused audits that rq was refused a camera that exists, as
// "access.refused" with the permission asked. The entry belongs to no
// organisation (only platform admins read it): the camera's owners are not
// shown who in another organisation probed it.
func recordRefused(r *http.Request, rq *Request, f *cameras.Refused) {
	rt := fromContext(r.Context())
	if rt == nil || rt.cfg.Audit == nil {
		return
	}
	actor := rq.User.Email
	if actor == "" {
		actor = rq.Addr
	}
	if !rt.refused.allow(actor) {
		rt.log.Debug("refused request not audited (rate-limited)", "actor", actor, "camera", f.CameraID)
		return
	}
	e := store.AuditEntry{Actor: rq.User.Email, Address: rq.Addr, Action: "access.refused",
		Target: "camera:" + f.CameraID, CameraID: f.CameraID, Detail: "permission " + f.Perm + ": " + r.Method + " " + r.URL.Path}
	if rq.P != nil && rq.P.ActingOrgID != "" {
		e.ActorAs = rq.P.ActingRole + "@" + rq.P.ActingOrgID
	}
	if _, err := rt.cfg.Audit.RecordDetached(r.Context(), e); err != nil {
		rt.log.Error("audit write failed", "action", e.Action, "target", e.Target, "err", err)
	}
}
