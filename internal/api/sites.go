package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/sites"
	"github.com/camcloud/camcloud/internal/store"
)

// registerSites adds the routes of sites (for users) and of their edge
// agents (authenticated by an enrolment token or a site credential).
func (s *server) registerSites(rt *httpapi.Router) {
	rt.Handle("POST /api/v1/sites", s.createSite)
	rt.Handle("GET /api/v1/sites", s.listSites)
	rt.Handle("GET /api/v1/sites/{id}", onSite(s.getSite))
	rt.Handle("POST /api/v1/sites/{id}/enrolment", onSite(s.newSiteEnrolment))
	rt.Handle("POST /api/v1/sites/{id}/revoke", onSite(s.revokeSite))
	rt.HandlePublic("POST /api/v1/agent/enrol", http.HandlerFunc(s.agentEnrol))
	rt.HandlePublic("POST /api/v1/agent/rotate", http.HandlerFunc(s.agentRotate))
	rt.HandlePublic("POST /api/v1/agent/heartbeat", http.HandlerFunc(s.agentHeartbeat))
	rt.HandlePublic("GET /api/v1/agent/cameras/{id}/missing", http.HandlerFunc(s.agentMissing))
}

// siteHandler is a route on one site: it gets the {id} of the path and
// returns its failure (answered by onSite).
type siteHandler func(w http.ResponseWriter, r *http.Request, rq *httpapi.Request, id string) error

func onSite(h siteHandler) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
		id, err := httpapi.PathID(r, "id")
		if err == nil {
			err = h(w, r, rq, id)
		}
		if err != nil {
			failSites(w, r, err)
		}
	}
}

// siteWire is a site as the API shows it.
type siteWire struct {
	ID           string         `json:"id"`
	OrgID        string         `json:"org_id"`
	Name         string         `json:"name"`
	Enrolled     bool           `json:"enrolled"`
	EnrolPending bool           `json:"enrolment_pending"`
	EnrolledAt   *time.Time     `json:"enrolled_at,omitempty"`
	RevokedAt    *time.Time     `json:"revoked_at,omitempty"`
	CreatedBy    string         `json:"created_by"`
	CreatedAt    time.Time      `json:"created_at"`
	Status       siteStatusWire `json:"status"`
	// EnrolmentToken and its expiry are set in the answers of creation
	// and of a new enrolment only.
	EnrolmentToken     string     `json:"enrolment_token,omitempty"`
	EnrolmentExpiresAt *time.Time `json:"enrolment_expires_at,omitempty"`
}

type siteStatusWire struct {
	Online         bool       `json:"online"`
	LastSeen       *time.Time `json:"last_seen,omitempty"`
	AgentVersion   string     `json:"agent_version,omitempty"`
	BufferUsed     int64      `json:"buffer_used_bytes"`
	BufferMax      int64      `json:"buffer_max_bytes"`
	BacklogSeconds float64    `json:"backlog_seconds"`
	BacklogBytes   int64      `json:"backlog_bytes"`
	UploadBPS      int64      `json:"upload_bps"`
}

func siteJSON(st sites.Site) siteWire {
	ss := st.Status
	return siteWire{ID: st.ID, OrgID: st.OrgID, Name: st.Name, Enrolled: st.Enrolled, EnrolPending: st.EnrolPending,
		EnrolledAt: optTime(st.EnrolledAt), RevokedAt: optTime(st.RevokedAt), CreatedBy: st.CreatedBy, CreatedAt: st.CreatedAt,
		Status: siteStatusWire{Online: st.Online, LastSeen: optTime(ss.LastSeen), AgentVersion: ss.AgentVersion, BufferUsed: ss.BufferUsed,
			BufferMax: ss.BufferMax, BacklogSeconds: ss.Backlog.Seconds(), BacklogBytes: ss.BacklogBytes, UploadBPS: ss.UploadBPS}}
}

func enrolmentJSON(e sites.Enrolment) siteWire {
	out := siteJSON(e.Site)
	out.EnrolmentToken, out.EnrolmentExpiresAt = e.Token, optTime(e.Site.EnrolUntil)
	return out
}

// failSites answers the site service's refusals: bad input 400, a bad
// token or credential 401, the organisation's limit 409.
func failSites(w http.ResponseWriter, r *http.Request, err error) {
	var ie *sites.InputError
	switch {
	case errors.As(err, &ie):
		httpapi.Fail(w, r, httpapi.BadRequest("%s", ie.Msg))
	case errors.Is(err, sites.ErrBadCredential):
		httpapi.Fail(w, r, httpapi.Errorf(http.StatusUnauthorized, "unauthorized", "%s", err.Error()))
	case errors.Is(err, store.ErrLimit):
		httpapi.Fail(w, r, httpapi.Errorf(http.StatusConflict, "limit", "an organisation has at most %d sites", store.MaxSitesPerOrg))
	default:
		httpapi.Fail(w, r, err)
	}
}

func (s *server) createSite(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	var req struct {
		OrgID string `json:"org_id"`
		Name  string `json:"name"`
	}
	if err := decodeForOrg(w, r, &req, &req.OrgID); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	e, err := s.Sites.Create(r.Context(), rq.P, req.OrgID, req.Name)
	if err != nil {
		failSites(w, r, err)
		return
	}
	httpapi.Record(r, rq, "site.create", "site:"+e.Site.ID, e.Site.OrgID, "", "name="+e.Site.Name)
	httpapi.WriteJSON(w, http.StatusCreated, enrolmentJSON(e))
}

func (s *server) listSites(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	list, err := s.Sites.List(r.Context(), rq.P)
	if err != nil {
		failSites(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"sites": httpapi.NonNil(listJSON(list, siteJSON))})
}

func (s *server) getSite(w http.ResponseWriter, r *http.Request, rq *httpapi.Request, id string) error {
	st, err := s.Sites.Get(r.Context(), rq.P, id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, siteJSON(st))
	return nil
}

func (s *server) newSiteEnrolment(w http.ResponseWriter, r *http.Request, rq *httpapi.Request, id string) error {
	e, err := s.Sites.NewEnrolment(r.Context(), rq.P, id)
	if err != nil {
		return err
	}
	httpapi.Record(r, rq, "site.enrolment", "site:"+id, e.Site.OrgID, "", "")
	httpapi.WriteJSON(w, http.StatusOK, enrolmentJSON(e))
	return nil
}

func (s *server) revokeSite(w http.ResponseWriter, r *http.Request, rq *httpapi.Request, id string) error {
	st, err := s.Sites.Revoke(r.Context(), rq.P, id)
	if err != nil {
		return err
	}
	httpapi.Record(r, rq, "site.revoke", "site:"+id, st.OrgID, "", "")
	httpapi.WriteJSON(w, http.StatusOK, siteJSON(st))
	return nil
}

// credentialWire is the answer of an enrolment or a rotation: the site
// credential, shown once.
type credentialWire struct {
	SiteID     string `json:"site_id"`
	OrgID      string `json:"org_id"`
	Credential string `json:"credential"`
}

// agentRequest is the audit identity of an agent's call.
func agentRequest(r *http.Request, siteID string) *httpapi.Request {
	return httpapi.AgentRequest(r, siteID)
}

// bearer is the token of an Authorization: Bearer header.
func bearer(r *http.Request) (string, error) {
	tok, ok := httpapi.BearerToken(r)
	if !ok {
		return "", sites.ErrBadCredential
	}
	return tok, nil
}

func (s *server) agentEnrol(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Token string `json:"token"`
	}
	if err := httpapi.Decode(w, r, &req); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	c, err := s.Sites.Enrol(r.Context(), req.Token)
	if err != nil {
		failSites(w, r, err)
		return
	}
	httpapi.Record(r, agentRequest(r, c.SiteID), "site.enrol", "site:"+c.SiteID, c.OrgID, "", "")
	httpapi.WriteJSON(w, http.StatusOK, credentialWire(c))
}

func (s *server) agentRotate(w http.ResponseWriter, r *http.Request) {
	cred, err := bearer(r)
	if err == nil {
		var c sites.Credential
		if c, err = s.Sites.Rotate(r.Context(), cred); err == nil {
			httpapi.Record(r, agentRequest(r, c.SiteID), "site.rotate", "site:"+c.SiteID, c.OrgID, "", "")
			httpapi.WriteJSON(w, http.StatusOK, credentialWire(c))
			return
		}
	}
	failSites(w, r, err)
}

// heartbeatReq is an agent's report.
type heartbeatReq struct {
	AgentVersion   string  `json:"agent_version"`
	BufferUsed     int64   `json:"buffer_used_bytes"`
	BufferMax      int64   `json:"buffer_max_bytes"`
	BacklogSeconds float64 `json:"backlog_seconds"`
	BacklogBytes   int64   `json:"backlog_bytes"`
	UploadBPS      int64   `json:"upload_bps"`
}

type agentCameraWire struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Zone      string `json:"zone"`
	Recording string `json:"recording"`
}

func (s *server) agentHeartbeat(w http.ResponseWriter, r *http.Request) {
	cred, err := bearer(r)
	if err == nil {
		_, err = s.Sites.Authenticate(r.Context(), cred) // before reading the body: 401 first
	}
	if err != nil {
		failSites(w, r, err)
		return
	}
	var req heartbeatReq
	if err := httpapi.Decode(w, r, &req); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if req.BacklogSeconds < 0 || req.BacklogSeconds > 1e9 {
		httpapi.Fail(w, r, httpapi.BadRequest("backlog_seconds out of range"))
		return
	}
	st, cams, err := s.Sites.Heartbeat(r.Context(), cred, sites.Report{AgentVersion: req.AgentVersion, BufferUsed: req.BufferUsed,
		BufferMax: req.BufferMax, Backlog: time.Duration(req.BacklogSeconds * float64(time.Second)), BacklogBytes: req.BacklogBytes,
		UploadBPS: req.UploadBPS})
	if err != nil {
		failSites(w, r, err)
		return
	}
	out := make([]agentCameraWire, 0, len(cams))
	for _, c := range cams {
		out = append(out, agentCameraWire(c))
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"site": siteJSON(st), "cameras": out})
}

// agentMissing answers which parts of a camera's timeline the cloud lacks.
func (s *server) agentMissing(w http.ResponseWriter, r *http.Request) {
	cred, err := bearer(r)
	if err == nil {
		_, err = s.Sites.Authenticate(r.Context(), cred)
	}
	if err != nil {
		failSites(w, r, err)
		return
	}
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	q := r.URL.Query()
	from, ferr := time.Parse(time.RFC3339Nano, q.Get("from"))
	to, terr := time.Parse(time.RFC3339Nano, q.Get("to"))
	if ferr != nil || terr != nil {
		httpapi.Fail(w, r, httpapi.BadRequest("from and to are required, RFC 3339"))
		return
	}
	gaps, err := s.Sites.Missing(r.Context(), cred, id, from, to)
	if err != nil {
		failSites(w, r, err)
		return
	}
	out := make([]map[string]time.Time, 0, len(gaps))
	for _, g := range gaps {
		out = append(out, map[string]time.Time{"start": g.Start.UTC(), "end": g.End.UTC()})
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"missing": out})
}
