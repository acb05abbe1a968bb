package api

import (
	"cmp"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/cameras"
	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/ingesturl"
	"github.com/camcloud/camcloud/internal/store"
)

// cameraJSON is a camera as the API shows it.
type cameraJSON struct {
	ID            string            `json:"id"`
	OrgID         string            `json:"org_id"`
	Name          string            `json:"name"`
	Zone          string            `json:"zone"`
	Source        cameras.Source    `json:"source"`
	RetentionDays int               `json:"retention_days"`
	Recording     string            `json:"recording"`
	Motion        motionJSON        `json:"motion"`
	Labels        map[string]string `json:"labels"`
	SiteID        string            `json:"site_id"`
	CreatedAt     time.Time         `json:"created_at"`
	Status        statusWire        `json:"status"`
	Permissions   []string          `json:"permissions"`
	Ingest        *ingestJSON       `json:"ingest,omitempty"`
}

// motionJSON is a camera's motion detection setting as the API shows it.
type motionJSON struct {
	Enabled     bool `json:"enabled"`
	Sensitivity int  `json:"sensitivity"`
}

type ingestJSON struct {
	RTSPURL string `json:"rtsp_url"`
	RTMPURL string `json:"rtmp_url"`
}

type cameraReq struct {
	OrgID         string             `json:"org_id"`
	Name          *string            `json:"name"`
	Source        *cameras.Source    `json:"source"`
	RetentionDays *int               `json:"retention_days"`
	Recording     *string            `json:"recording"`
	Zone          *string            `json:"zone"`
	Motion        *cameras.Motion    `json:"motion"`
	Labels        *map[string]string `json:"labels"`
	SiteID        *string            `json:"site_id"`
}

func (c cameraReq) spec() cameras.Spec {
	return cameras.Spec{Name: c.Name, Source: c.Source, RetentionDays: c.RetentionDays, Recording: c.Recording, Zone: c.Zone,
		Motion: c.Motion, Labels: c.Labels, SiteID: c.SiteID}
}

func toJSON(rq *httpapi.Request, c store.Camera, st store.CameraStatus) cameraJSON {
	src := cameras.Source{Type: c.SourceType}
	if c.SourceType == "pull" {
		src.URL = cameras.RedactURL(c.SourceURL)
	}
	perms := authz.CameraPerms(rq.P, c)
	if perms == nil {
		perms = []string{}
	}
	on, sens := cameras.MotionOf(c)
	labels := c.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	return cameraJSON{Labels: labels, ID: c.ID, OrgID: c.OrgID, Name: c.Name, Zone: c.Zone, Source: src, RetentionDays: c.RetentionDays,
		Recording: c.Recording, Motion: motionJSON{Enabled: on, Sensitivity: sens}, SiteID: c.SiteID, CreatedAt: c.CreatedAt,
		Status: statusJSON(st), Permissions: perms}
}

// ingestURLs builds the URLs, carrying the secret, a camera pushes to.
func (s *server) ingestURLs(r *http.Request, c store.Camera, secret string) *ingestJSON {
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

// camera loads the {id} camera for rq, who must be allowed perm on it.
func (s *server) camera(r *http.Request, rq *httpapi.Request, perm string) (store.Camera, error) {
	return httpapi.PathCamera(r, rq, s.Cameras, perm)
}

// decodeForOrg decodes the body of a creation into v and checks that its
// org_id field (at orgID) is an id.
func decodeForOrg(w http.ResponseWriter, r *http.Request, v any, orgID *string) error {
	if err := httpapi.Decode(w, r, v); err != nil {
		return err
	}
	if !httpapi.IsID(*orgID) {
		return httpapi.BadRequest("org_id is required and must be an id")
	}
	return nil
}

func (s *server) createCamera(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	var req cameraReq
	if err := decodeForOrg(w, r, &req, &req.OrgID); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if err := authz.Org(rq.P, req.OrgID, authz.OrgCreateCamera); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if req.Source == nil {
		req.Source = &cameras.Source{Type: "push"}
	}
	c, secret, err := s.Cameras.Create(r.Context(), req.OrgID, req.spec())
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.Record(r, rq, "camera.create", "camera:"+c.ID, c.OrgID, c.ID, c.Name)
	out := toJSON(rq, c, store.CameraStatus{})
	out.Ingest = s.ingestURLs(r, c, secret)
	httpapi.WriteJSON(w, http.StatusCreated, out)
}

func (s *server) listCameras(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	orgs := rq.P.Orgs()
	if o := r.URL.Query().Get("org_id"); o != "" {
		if authz.Org(rq.P, o, authz.OrgView) != nil {
			httpapi.WriteJSON(w, http.StatusOK, map[string]any{"cameras": []cameraJSON{}})
			return
		}
		orgs = []string{o}
	}
	filter, err := cameras.ParseLabelFilter(r.URL.Query()["label"])
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	cams, status, err := s.Cameras.List(r.Context(), rq.P, orgs)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	cams = filter.Filter(cams)
	out := make([]cameraJSON, 0, len(cams))
	for _, c := range cams {
		out = append(out, toJSON(rq, c, status[c.ID]))
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"cameras": out})
}

func (s *server) getCamera(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	c, err := s.camera(r, rq, authz.PermView)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, toJSON(rq, c, s.Cameras.Status(r.Context(), c)))
}

func (s *server) patchCamera(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	c, err := s.camera(r, rq, authz.PermManage)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	var req cameraReq
	if err := httpapi.Decode(w, r, &req); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if req.OrgID != "" && req.OrgID != c.OrgID {
		httpapi.Fail(w, r, httpapi.BadRequest("a camera cannot move to another organisation"))
		return
	}
	c, changed, secret, err := s.Cameras.Update(r.Context(), c, req.spec())
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.Record(r, rq, "camera.update", "camera:"+c.ID, c.OrgID, c.ID, changed.String())
	out := toJSON(rq, c, s.Cameras.Status(r.Context(), c))
	if secret != "" { // a pull camera became a push camera: it needs URLs to push to
		out.Ingest = s.ingestURLs(r, c, secret)
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (s *server) deleteCamera(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	c, err := s.camera(r, rq, authz.PermManage)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if err := s.Cameras.Delete(r.Context(), c); err != nil {
		httpapi.Fail(w, r, heldCamera(err))
		return
	}
	httpapi.Record(r, rq, "camera.delete", "camera:"+c.ID, c.OrgID, c.ID, c.Name)
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) rotateKey(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	c, err := s.camera(r, rq, authz.PermManage)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	c, secret, err := s.Cameras.RotateKey(r.Context(), c)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.Record(r, rq, "camera.rotate_key", "camera:"+c.ID, c.OrgID, c.ID, "")
	out := toJSON(rq, c, s.Cameras.Status(r.Context(), c))
	out.Ingest = s.ingestURLs(r, c, secret)
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (s *server) listGrants(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	c, err := s.grantCamera(r, rq)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	gs, err := s.Cameras.Grants(r.Context(), c)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"grants": listJSON(gs, grantJSON)})
}

// grantCamera loads the {id} camera, whose grants rq must be allowed to manage.
func (s *server) grantCamera(r *http.Request, rq *httpapi.Request) (store.Camera, error) {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return store.Camera{}, err
	}
	return s.Cameras.GrantsFor(r.Context(), rq.P, id)
}

// grantTarget loads the camera and the user of a grant route, and checks rq
// may manage grants and that the user is a member of the camera's org.
func (s *server) grantTarget(r *http.Request, rq *httpapi.Request) (store.Camera, string, error) {
	c, err := s.grantCamera(r, rq)
	if err != nil {
		return c, "", err
	}
	uid, err := httpapi.PathID(r, "user")
	if err != nil {
		return c, "", errNotMember
	}
	if err := s.Cameras.CheckGrantee(r.Context(), c, uid); err != nil {
		return c, "", notMember(err)
	}
	return c, uid, nil
}

// errNotMember answers a grant route whose user is no member of the org.
var errNotMember = httpapi.Errorf(http.StatusNotFound, "not_found", "%s", cameras.ErrNotMember.Error())

// notMember turns cameras.ErrNotMember into errNotMember.
func notMember(err error) error {
	if errors.Is(err, cameras.ErrNotMember) {
		return errNotMember
	}
	return err
}

func (s *server) putGrant(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	c, uid, err := s.grantTarget(r, rq)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	var req struct {
		Permissions []string `json:"permissions"`
	}
	if err := httpapi.Decode(w, r, &req); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if len(req.Permissions) == 0 || len(req.Permissions) > len(authz.GrantablePerms) {
		httpapi.Fail(w, r, httpapi.BadRequest("permissions must list some of live, playback, export, manage"))
		return
	}
	for _, p := range req.Permissions {
		if !authz.ValidPerm(p) {
			httpapi.Fail(w, r, httpapi.BadRequest("permission %q is not one of live, playback, export, manage", p))
			return
		}
	}
	g, err := s.Cameras.PutGrant(r.Context(), c, uid, req.Permissions)
	if err != nil {
		httpapi.Fail(w, r, notMember(err)) // removed from the org meanwhile
		return
	}
	httpapi.Record(r, rq, "grant.put", "user:"+uid, c.OrgID, c.ID, strings.Join(req.Permissions, ","))
	httpapi.WriteJSON(w, http.StatusOK, grantJSON(g))
}

func (s *server) deleteGrant(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	c, uid, err := s.grantTarget(r, rq)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if err := s.Cameras.DeleteGrant(r.Context(), c, uid); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.Record(r, rq, "grant.delete", "user:"+uid, c.OrgID, c.ID, "")
	w.WriteHeader(http.StatusNoContent)
}
