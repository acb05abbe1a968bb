package httpapi

import (
	"net/http"
	"time"

	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/cameras"
	"github.com/camcloud/camcloud/internal/store"
)

// Refused requests are audited, but one principal probing camera ids must
// not flood the log: each actor may leave refusedBurst entries at once and
// one more a minute; the rest are only logged at debug level. The limiter
// (auth's, as for logins) remembers at most refusedActors actors.
const (
	refusedBurst  = 5
	refusedActors = 4096
)

// newRefusals is the per-actor limit of audit entries for refused requests.
func newRefusals() *auth.Limiter { return auth.NewLimiter(1, refusedBurst, refusedActors) }

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
	if !rt.refused.Allow(actor, time.Now()) {
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
