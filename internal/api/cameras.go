package api

import (
	"cmp"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/cameras"
	"github.com/camcloud/camcloud/internal/ingesturl"
	"github.com/camcloud/camcloud/internal/store"
)

// cameraJSON is a camera as the API shows it.
type cameraJSON struct {
	ID            string             `json:"id"`
	OrgID         string             `json:"org_id"`
	Name          string             `json:"name"`
	Zone          string             `json:"zone"`
	Source        cameras.Source     `json:"source"`
	RetentionDays int                `json:"retention_days"`
	Recording     string             `json:"recording"`
	CreatedAt     time.Time          `json:"created_at"`
	Status        store.CameraStatus `json:"status"`
	Permissions   []string           `json:"permissions"`
	Ingest        *ingestJSON        `json:"ingest,omitempty"`
}

type ingestJSON struct {
	RTSPURL string `json:"rtsp_url"`
	RTMPURL string `json:"rtmp_url"`
}

type cameraReq struct {
	OrgID         string          `json:"org_id"`
	Name          *string         `json:"name"`
	Source        *cameras.Source `json:"source"`
	RetentionDays *int            `json:"retention_days"`
	Recording     *string         `json:"recording"`
	Zone          *string         `json:"zone"`
}

func (c cameraReq) spec() cameras.Spec {
	return cameras.Spec{Name: c.Name, Source: c.Source, RetentionDays: c.RetentionDays, Recording: c.Recording, Zone: c.Zone}
}

func (s *Server) toJSON(rq *Request, c store.Camera, st store.CameraStatus) cameraJSON {
	src := cameras.Source{Type: c.SourceType}
	if c.SourceType == "pull" {
		src.URL = cameras.RedactURL(c.SourceURL)
	}
	perms := authz.CameraPerms(rq.P, c)
	if perms == nil {
		perms = []string{}
	}
	return cameraJSON{ID: c.ID, OrgID: c.OrgID, Name: c.Name, Zone: c.Zone, Source: src, RetentionDays: c.RetentionDays,
		Recording: c.Recording, CreatedAt: c.CreatedAt, Status: st, Permissions: perms}
}

// ingestURLs builds the URLs, carrying the secret, a camera pushes to.
func (s *Server) ingestURLs(r *http.Request, c store.Camera, secret string) *ingestJSON {
	host := s.PublicHost
	if host == "" {
		host = r.Host
		if h, _, err := net.SplitHostPort(r.Host); err == nil {
			host = h
		}
	}
	rtspAddr, rtmpAddr := net.JoinHostPort(host, s.RTSPPort), net.JoinHostPort(host, s.RTMPPort)
	if s.ZoneIngest != nil {
		zr, zm := s.ZoneIngest(c.Zone)
		rtspAddr, rtmpAddr = cmp.Or(zr, rtspAddr), cmp.Or(zm, rtmpAddr)
	}
	rtsp, rtmp := ingesturl.URLs("rtsp://"+rtspAddr, "rtmp://"+rtmpAddr, c.ID, secret)
	return &ingestJSON{RTSPURL: rtsp, RTMPURL: rtmp}
}

// status reads a camera's status from its zone; a zone that cannot answer
// yields an empty status rather than failing the request.
func (s *Server) status(r *http.Request, c store.Camera) store.CameraStatus {
	z, err := s.Zones.Get(c.Zone)
	if err != nil {
		return store.CameraStatus{}
	}
	st, err := z.DB.GetStatus(r.Context(), c.ID)
	if err != nil {
		s.log.Warn("camera status unavailable", "camera", c.ID, "zone", c.Zone, "err", err)
	}
	return st
}

// Camera loads the camera in the {id} path value and checks that rq may do
// perm on it. Other organisations' cameras are not found.
func (s *Server) Camera(r *http.Request, rq *Request, perm string) (store.Camera, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return store.Camera{}, err
	}
	c, err := s.Dir.GetCamera(r.Context(), id)
	if err != nil {
		return store.Camera{}, err
	}
	if err := authz.Camera(rq.P, c, perm); err != nil {
		return store.Camera{}, err
	}
	return c, nil
}

func (s *Server) createCamera(w http.ResponseWriter, r *http.Request, rq *Request) {
	var req cameraReq
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if !idRE.MatchString(req.OrgID) {
		s.fail(w, r, badRequest("org_id is required and must be an id"))
		return
	}
	if err := authz.Org(rq.P, req.OrgID, authz.OrgCreateCamera); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.Source == nil {
		req.Source = &cameras.Source{Type: "push"}
	}
	c, secret, err := s.Cameras.Create(r.Context(), req.OrgID, req.spec())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.record(r, rq, "camera.create", "camera:"+c.ID, c.OrgID, c.ID, c.Name)
	out := s.toJSON(rq, c, store.CameraStatus{})
	out.Ingest = s.ingestURLs(r, c, secret)
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) listCameras(w http.ResponseWriter, r *http.Request, rq *Request) {
	orgs := rq.P.Orgs()
	if o := r.URL.Query().Get("org_id"); o != "" {
		if authz.Org(rq.P, o, authz.OrgView) != nil {
			writeJSON(w, http.StatusOK, map[string]any{"cameras": []cameraJSON{}})
			return
		}
		orgs = []string{o}
	}
	cams, err := s.Dir.ListCameras(r.Context(), orgs)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	byZone := map[string][]string{}
	for _, c := range cams {
		byZone[c.Zone] = append(byZone[c.Zone], c.ID)
	}
	status := map[string]store.CameraStatus{}
	for zn, ids := range byZone {
		z, err := s.Zones.Get(zn)
		if err != nil {
			continue
		}
		m, err := z.DB.ListStatus(r.Context(), ids)
		if err != nil {
			s.log.Warn("camera status unavailable", "zone", zn, "err", err)
			continue
		}
		for k, v := range m {
			status[k] = v
		}
	}
	out := make([]cameraJSON, 0, len(cams))
	for _, c := range cams {
		if authz.Camera(rq.P, c, authz.PermView) != nil {
			continue
		}
		out = append(out, s.toJSON(rq, c, status[c.ID]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"cameras": out})
}

func (s *Server) getCamera(w http.ResponseWriter, r *http.Request, rq *Request) {
	c, err := s.Camera(r, rq, authz.PermView)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.toJSON(rq, c, s.status(r, c)))
}

func (s *Server) patchCamera(w http.ResponseWriter, r *http.Request, rq *Request) {
	c, err := s.Camera(r, rq, authz.PermManage)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req cameraReq
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.OrgID != "" && req.OrgID != c.OrgID {
		s.fail(w, r, badRequest("a camera cannot move to another organisation"))
		return
	}
	c, err = s.Cameras.Update(r.Context(), c, req.spec())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.record(r, rq, "camera.update", "camera:"+c.ID, c.OrgID, c.ID, "")
	writeJSON(w, http.StatusOK, s.toJSON(rq, c, s.status(r, c)))
}

func (s *Server) deleteCamera(w http.ResponseWriter, r *http.Request, rq *Request) {
	c, err := s.Camera(r, rq, authz.PermManage)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Dir.DeleteCamera(r.Context(), c.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	s.record(r, rq, "camera.delete", "camera:"+c.ID, c.OrgID, c.ID, c.Name)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) rotateKey(w http.ResponseWriter, r *http.Request, rq *Request) {
	c, err := s.Camera(r, rq, authz.PermManage)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, secret, err := s.Cameras.RotateKey(r.Context(), c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.record(r, rq, "camera.rotate_key", "camera:"+c.ID, c.OrgID, c.ID, "")
	out := s.toJSON(rq, c, s.status(r, c))
	out.Ingest = s.ingestURLs(r, c, secret)
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listGrants(w http.ResponseWriter, r *http.Request, rq *Request) {
	c, err := s.Camera(r, rq, authz.PermView)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := authz.Grant(rq.P, c); err != nil {
		s.fail(w, r, err)
		return
	}
	ms, err := s.Dir.ListMembers(r.Context(), c.OrgID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := []store.Grant{}
	for _, m := range ms {
		g, err := s.Dir.GetGrant(r.Context(), c.ID, m.UserID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out = append(out, g)
	}
	writeJSON(w, http.StatusOK, map[string]any{"grants": out})
}

// grantTarget loads the camera and the user of a grant route, and checks rq
// may manage grants and that the user is a member of the camera's org.
func (s *Server) grantTarget(r *http.Request, rq *Request) (store.Camera, string, error) {
	c, err := s.Camera(r, rq, authz.PermView)
	if err != nil {
		return c, "", err
	}
	if err := authz.Grant(rq.P, c); err != nil {
		return c, "", err
	}
	m, err := s.member(r, c.OrgID)
	if err != nil {
		return c, "", errf(http.StatusNotFound, "not_found", "user is not a member of the camera's organisation")
	}
	return c, m.UserID, nil
}

func (s *Server) putGrant(w http.ResponseWriter, r *http.Request, rq *Request) {
	c, uid, err := s.grantTarget(r, rq)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req struct {
		Permissions []string `json:"permissions"`
	}
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if len(req.Permissions) == 0 || len(req.Permissions) > len(authz.GrantablePerms) {
		s.fail(w, r, badRequest("permissions must list some of live, playback, export, manage"))
		return
	}
	for _, p := range req.Permissions {
		if !authz.ValidPerm(p) {
			s.fail(w, r, badRequest("permission %q is not one of live, playback, export, manage", p))
			return
		}
	}
	g := store.Grant{CameraID: c.ID, UserID: uid, Permissions: req.Permissions}
	if err := s.Dir.PutGrant(r.Context(), g); err != nil {
		s.fail(w, r, err)
		return
	}
	s.record(r, rq, "grant.put", "user:"+uid, c.OrgID, c.ID, joinPerms(req.Permissions))
	writeJSON(w, http.StatusOK, g)
}

func (s *Server) deleteGrant(w http.ResponseWriter, r *http.Request, rq *Request) {
	c, uid, err := s.grantTarget(r, rq)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Dir.DeleteGrant(r.Context(), c.ID, uid); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, err)
		return
	}
	s.record(r, rq, "grant.delete", "user:"+uid, c.OrgID, c.ID, "")
	w.WriteHeader(http.StatusNoContent)
}

func joinPerms(ps []string) string {
	out := ""
	for i, p := range ps {
		if i > 0 {
			out += ","
		}
		out += p
	}
	return out
}
