package playback

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/httpapi"
)

// recordings answers GET /api/v1/cameras/{id}/recordings?from&to: the
// recorded spans of [from, to) (default: the last 24 hours).
func (s *Service) recordings(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	cam, z, err := s.camera(r, rq, authz.PermPlayback)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	to, err := parseTime(r, "to", s.d.Now().UTC())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	from, err := parseTime(r, "from", to.Add(-24*time.Hour))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := checkRange(from, to, MaxTimelineRange, "a timeline request"); err != nil {
		s.fail(w, r, err)
		return
	}
	spans, err := z.DB.Spans(r.Context(), cam.ID, from, to, SpanGap)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if n := len(spans); n == 0 || spans[n-1].End.Before(to) {
		// The newest minute is still in the holder's spool.
		spans = mergeSpans(spans, s.recent(r.Context(), cam, from, to, rq.User.ID, false).segs, from, to, SpanGap)
	}
	out := make([]spanJSON, 0, len(spans))
	for _, sp := range spans {
		out = append(out, spanJSON{Start: sp.Start, End: sp.End, Backfilled: sp.Backfilled})
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"spans": out})
}

// spanJSON is a recorded range in the answer of .../recordings;
// backfilled marks a range an edge agent uploaded after an outage.
type spanJSON struct {
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Backfilled bool      `json:"backfilled,omitempty"`
}

// sessionReq is the body of POST .../playback.
type sessionReq struct {
	From *time.Time `json:"from"`
	To   *time.Time `json:"to"`
}

// session answers POST /api/v1/cameras/{id}/playback {from,to}: the URL of
// an HLS VOD playlist of the range, signed for this camera.
func (s *Service) session(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	cam, z, err := s.camera(r, rq, authz.PermPlayback)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req sessionReq
	if err := httpapi.Decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.From == nil || req.To == nil {
		s.fail(w, r, httpapi.Errorf(http.StatusBadRequest, "bad_request", "from and to are required (RFC 3339)"))
		return
	}
	from, to := req.From.UTC(), req.To.UTC()
	if from.Year() < 1970 || to.Year() > 2199 {
		s.fail(w, r, httpapi.Errorf(http.StatusBadRequest, "bad_request", "from and to must be between 1970 and 2199"))
		return
	}
	if err := checkRange(from, to, MaxPlaybackRange, "a playback session"); err != nil {
		s.fail(w, r, err)
		return
	}
	segs, err := z.DB.ListSegments(r.Context(), cam.ID, from, to, 1)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(segs) == 0 {
		segs = s.recent(r.Context(), cam, from, to, rq.User.ID, false).segs
	}
	if len(segs) == 0 {
		s.fail(w, r, httpapi.Errorf(http.StatusNotFound, "not_found", "nothing is recorded between %s and %s",
			from.Format(time.RFC3339), to.Format(time.RFC3339)))
		return
	}
	now := s.d.Now()
	expires := now.Add(min(tokenLife+to.Sub(from), maxTokenLife)).UTC().Truncate(time.Second)
	tok, err := s.d.Signer.Sign(auth.MediaClaims{CameraID: cam.ID, Perm: authz.PermPlayback, From: from, To: to,
		Subject: rq.User.ID, Expires: expires})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.record(r, rq, "media.playback", "camera:"+cam.ID, cam.OrgID, cam.ID,
		fmt.Sprintf("%s..%s", from.Format(time.RFC3339), to.Format(time.RFC3339)))
	u := "/media/v1/playback/" + url.PathEscape(cam.ID) + "/index.m3u8?token=" + url.QueryEscape(tok)
	if s.d.PublicBase != nil {
		u = s.d.PublicBase(r) + u
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"hls_url": u, "expires_at": expires})
}
