// Package playback serves recorded video from the api role: the timeline of
// recorded spans, HLS VOD playlists that address keyframe runs inside the
// stored segment objects by byte range, single-file MP4 clip export streamed
// straight from the store, and JPEG stills decoded by ffmpeg.
//
// Session routes (timeline, playback session, clip, image) authenticate like
// every other API route and ask package authz. The media routes under
// /media/v1/playback are authenticated by a signed media token (package
// auth) bound to one camera, the "playback" permission and a time range, so
// players can fetch them without a session.
package playback

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/cameras"
	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/usage"
	"github.com/camcloud/camcloud/internal/zone"
)

// Bounds and defaults of the routes.
const (
	// DefaultMaxClip bounds a clip export when Deps.MaxClip is zero.
	DefaultMaxClip = 2 * time.Hour
	// MaxTimelineRange bounds one timeline request.
	MaxTimelineRange = 31 * 24 * time.Hour
	// MaxPlaybackRange bounds one playback session.
	MaxPlaybackRange = 24 * time.Hour
	// SpanGap is the largest hole between two segments still shown as one
	// span on the timeline.
	SpanGap = 2 * time.Second
	// tokenLife is the base lifetime of a playback token; the length of the
	// range is added (so a player watching at 1x is not cut off), up to
	// maxTokenLife.
	tokenLife    = time.Hour
	maxTokenLife = 12 * time.Hour
	// maxRows bounds the index rows read for one playlist or clip.
	maxRows = 20000
)

// Deps is what the playback service needs.
type Deps struct {
	// Cameras finds the camera of a route for the caller, or of a token.
	Cameras *cameras.Service
	// Meter counts each camera's playback egress (response bytes of
	// recorded HLS, clips and images) and exports; nil: not counted.
	// Presigned segment URLs are served by the object store, uncounted.
	Meter *usage.Meter
	// Zones opens each camera's zone: index rows and object store.
	Zones *zone.Registry
	// Signer signs and checks playback media tokens.
	Signer *auth.Signer
	// Log receives the service's logs.
	Log *slog.Logger
	// MaxClip bounds a clip export (DefaultMaxClip when zero).
	MaxClip time.Duration
	// FFmpeg is the path of the ffmpeg binary, "" when not installed: the
	// image route then answers 501.
	FFmpeg string
	// PublicBase, when set, returns the scheme and host ("https://host")
	// that hls_url is prefixed with; otherwise hls_url is a path on this
	// node.
	PublicBase func(r *http.Request) string
	// Now tells the time (time.Now when nil); tests set it.
	Now func() time.Time
	// Locate finds the camera server holding a camera (zone.Locator):
	// its spool has the newest video, not indexed yet. Nil: the index only.
	Locate zone.Locate
	// Local is this process's own spool when it also runs the camera
	// server (a *spool.Spool), read directly; nil otherwise.
	Local SpoolReader
	// HolderClient sends the requests to holders (a client with bounded
	// dials and waits when nil).
	HolderClient *http.Client
	// Shares admits media tokens minted for share links (package
	// shares); nil: such tokens are refused.
	Shares ShareGate
}

// ShareGate decides, on every media request whose token was minted for a
// share link (auth.MediaClaims.Share), whether the link still holds, so
// that a revoked link stops its holders at their next request.
type ShareGate interface {
	// Admit answers nil while link id holds, else the error to answer;
	// action, when not "", is audited with the request's source address.
	Admit(r *http.Request, id, action string) error
}

// Service serves the playback routes. It keeps no state between requests
// except a bound on concurrent ffmpeg processes.
type Service struct {
	d       Deps
	log     *slog.Logger
	ffmpegs chan struct{} // semaphore of running ffmpeg processes
	hc      *http.Client  // requests to holders
	inits   *initCache    // init segments that VOD playlists named
}

// New builds the service; call Register to serve it.
func New(d Deps) *Service {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.MaxClip <= 0 {
		d.MaxClip = DefaultMaxClip
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	hc := d.HolderClient
	if hc == nil {
		hc = newHolderClient()
	}
	return &Service{d: d, log: d.Log.With("component", "playback"), ffmpegs: make(chan struct{}, maxFFmpeg), hc: hc,
		inits: newInitCache()}
}

// Register adds the playback routes to rt: the session routes
// authenticated, the media routes public (they check their token).
func (s *Service) Register(rt *httpapi.Router) {
	rt.Handle("GET /api/v1/cameras/{id}/recordings", s.recordings)
	rt.Handle("POST /api/v1/cameras/{id}/playback", s.session)
	rt.Handle("GET /api/v1/cameras/{id}/clip.mp4", s.clip)
	rt.Handle("GET /api/v1/cameras/{id}/image", s.image)
	rt.HandleFunc("GET /media/v1/playback/{camera}/index.m3u8", s.playlist)
	rt.HandleFunc("GET /media/v1/playback/{camera}/obj/{key...}", s.object)
	rt.HandleFunc("GET /media/v1/playback/{camera}/clip.mp4", s.tokenClip)
}

// egress wraps w so that its body bytes count as cam's egress of kind, or
// as egress.share when share names the share link whose holder is served.
func (s *Service) egress(w http.ResponseWriter, cam store.Camera, kind usage.Kind, share string) http.ResponseWriter {
	if share != "" {
		kind = usage.EgressShare // served to the holder of a share link
	}
	return usage.CountWriter(w, s.d.Meter.Camera(cam.Zone, cam.OrgID, cam.ID), kind)
}

// fail answers err in the API's error shape.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	httpapi.Fail(w, r, err)
}

// record audits what rq did through r.
func (s *Service) record(r *http.Request, rq *httpapi.Request, action, target, orgID, cameraID, detail string) {
	httpapi.Record(r, rq, action, target, orgID, cameraID, detail)
}

// zoneOf returns the zone a camera lives in.
func (s *Service) zoneOf(c store.Camera) (*zone.Zone, error) {
	z, err := s.d.Zones.Get(c.Zone)
	if err != nil {
		return nil, httpapi.Errorf(http.StatusServiceUnavailable, "zone_unavailable", "the camera's zone %q is not served by this node", c.Zone)
	}
	return z, nil
}

// camera loads the {id} camera, checks rq may do perm on it and opens its zone.
func (s *Service) camera(r *http.Request, rq *httpapi.Request, perm string) (store.Camera, *zone.Zone, error) {
	c, err := httpapi.PathCamera(r, rq, s.d.Cameras, perm)
	if err != nil {
		return store.Camera{}, nil, err
	}
	z, err := s.zoneOf(c)
	return c, z, err
}

// parseTime reads an RFC 3339 query parameter; def when absent.
func parseTime(r *http.Request, name string, def time.Time) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		if def.IsZero() {
			return time.Time{}, httpapi.Errorf(http.StatusBadRequest, "bad_request", "%s is required (RFC 3339, e.g. 2026-11-25T13:00:00Z)", name)
		}
		return def, nil
	}
	if len(v) > 64 {
		return time.Time{}, httpapi.Errorf(http.StatusBadRequest, "bad_request", "%s is too long", name)
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil || t.Year() < 1970 || t.Year() > 2199 {
		return time.Time{}, httpapi.Errorf(http.StatusBadRequest, "bad_request", "%s must be an RFC 3339 time, e.g. 2026-11-25T13:00:00Z", name)
	}
	return t, nil
}

// checkRange validates [from, to) against a maximum length.
func checkRange(from, to time.Time, maxLen time.Duration, what string) error {
	if !to.After(from) {
		return httpapi.Errorf(http.StatusBadRequest, "bad_request", "to must be after from")
	}
	if to.Sub(from) > maxLen {
		return httpapi.Errorf(http.StatusBadRequest, "range_too_long", "%s may cover at most %s, asked for %s", what, maxLen, to.Sub(from).Round(time.Second))
	}
	return nil
}

// listSegments reads the index rows overlapping [from, to).
func listSegments(ctx context.Context, z *zone.Zone, cam string, from, to time.Time) ([]store.Segment, error) {
	return z.DB.ListSegments(ctx, cam, from, to, maxRows)
}

// verifyToken checks the request's media token for the {camera} path
// value and perm; a token minted for a share link is admitted by the link
// (Deps.Shares), which audits action.
func (s *Service) verifyToken(r *http.Request, perm, action string) (auth.MediaClaims, error) {
	c, err := verifyToken(r, s.d.Signer, perm, s.d.Now())
	if err != nil || c.Share == "" {
		return c, err
	}
	if s.d.Shares == nil {
		return auth.MediaClaims{}, httpapi.Errorf(http.StatusUnauthorized, "unauthorized", "media token refused: share links are not served here")
	}
	if err := s.d.Shares.Admit(r, c.Share, action); err != nil {
		return auth.MediaClaims{}, err
	}
	return c, nil
}

// verifyToken checks the request's media token (?token=) with signer: a
// token of perm with a range, for the {camera} path value, not expired at
// now.
func verifyToken(r *http.Request, signer *auth.Signer, perm string, now time.Time) (auth.MediaClaims, error) {
	cam := r.PathValue("camera")
	tok := r.URL.Query().Get("token")
	if tok == "" {
		return auth.MediaClaims{}, httpapi.Errorf(http.StatusUnauthorized, "unauthorized", "a media token is required")
	}
	c, err := signer.VerifyFor(tok, cam, perm, now)
	if err != nil {
		return auth.MediaClaims{}, httpapi.Errorf(http.StatusUnauthorized, "unauthorized", "media token refused: %s", tokenReason(err))
	}
	if c.From.IsZero() {
		return auth.MediaClaims{}, httpapi.Errorf(http.StatusUnauthorized, "unauthorized", "media token refused: it carries no playback range")
	}
	return c, nil
}

// tokenReason says why a token was refused without echoing it.
func tokenReason(err error) string {
	if errors.Is(err, auth.ErrTokenExpired) {
		return "expired"
	}
	return "invalid or issued for another camera"
}

// tokenCamera authorises a media route by its token (verifyToken, for
// perm; action is audited for a share link's token), runs check on its
// claims when set (cheap refusals before the camera is read), and loads
// the token's camera and zone.
func (s *Service) tokenCamera(r *http.Request, perm, action string, check func(auth.MediaClaims) error) (auth.MediaClaims, store.Camera, *zone.Zone, error) {
	c, err := s.verifyToken(r, perm, action)
	if err == nil && check != nil {
		err = check(c)
	}
	if err != nil {
		return c, store.Camera{}, nil, err
	}
	cam, z, err := s.mediaZone(r, c.CameraID)
	return c, cam, z, err
}

// mediaZone loads the token's camera and opens its zone; a deleted camera
// is gone.
func (s *Service) mediaZone(r *http.Request, cam string) (store.Camera, *zone.Zone, error) {
	c, err := s.d.Cameras.Get(r.Context(), cam)
	if err != nil {
		return store.Camera{}, nil, err
	}
	z, err := s.zoneOf(c)
	return c, z, err
}
