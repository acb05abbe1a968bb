package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/store"
)

// parseTime reads an optional RFC 3339 query parameter.
func parseTime(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, httpapi.BadRequest("%s must be an RFC 3339 time, e.g. 2026-11-25T13:00:00Z", name)
	}
	return t, nil
}

func (s *server) listAudit(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	q := r.URL.Query()
	f := store.AuditFilter{Actor: q.Get("actor"), CameraID: q.Get("camera"), Limit: 500}
	var err error
	if f.From, err = parseTime(r, "from"); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if f.To, err = parseTime(r, "to"); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 5000 {
			httpapi.Fail(w, r, httpapi.BadRequest("limit must be 1 to 5000"))
			return
		}
		f.Limit = n
	}
	if org := q.Get("org"); org != "" {
		if err := authz.AuditRead(rq.P, org); err != nil {
			httpapi.Fail(w, r, err)
			return
		}
		f.OrgIDs = []string{org}
	} else {
		f.OrgIDs = authz.AuditOrgs(rq.P)
		if f.OrgIDs != nil && len(f.OrgIDs) == 0 {
			httpapi.Fail(w, r, httpapi.Errorf(http.StatusForbidden, "forbidden", "you may not read the audit log"))
			return
		}
	}
	es, err := s.Audit.List(r.Context(), f)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	names := s.Audit.Names(r.Context(), es)
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"entries": httpapi.NonNil(listJSON(es,
		func(e store.AuditEntry) auditWire { return auditJSON(e, names) }))})
}
