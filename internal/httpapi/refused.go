package httpapi

import (
	"net/http"

	"github.com/camcloud/camcloud/internal/cameras"
)

// recordRefused audits that rq was refused a camera that exists, as
// "access.refused" with the permission asked. The entry belongs to no
// organisation (only platform admins read it): the camera's owners are not
// shown who in another organisation probed it. Like failed logins and
// second factors, it is rate-limited by the accounts service
// (AuditFailure: a few per caller, and a ceiling for everyone), so that
// probing ids cannot flood the log.
func recordRefused(r *http.Request, rq *Request, f *cameras.Refused) {
	rt := fromContext(r.Context())
	if rt == nil || rt.cfg.Accounts == nil {
		return
	}
	actor := rq.User.Email
	if actor == "" {
		actor = rq.Addr
	}
	if !rt.cfg.Accounts.AuditFailure("access.refused|" + actor) {
		rt.log.Debug("refused request not audited (rate-limited)", "actor", actor, "camera", f.CameraID)
		return
	}
	Record(r, rq, "access.refused", "camera:"+f.CameraID, "", f.CameraID, "permission "+f.Perm+": "+r.Method+" "+r.URL.Path)
}
