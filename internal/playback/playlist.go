package playback

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/usage"
	"github.com/camcloud/camcloud/internal/zone"
)

// Playlist shaping.
const (
	// minHLSSegment: keyframe runs of one object are joined up to this
	// length, so a day's playlist stays a few thousand entries; a seek
	// fetches at most this plus one GOP.
	minHLSSegment = 4 * time.Second
	// maxHLSSegments bounds one playlist.
	maxHLSSegments = 50000
	// gapTolerance: a hole shorter than this between two runs is clock
	// rounding, not a gap.
	gapTolerance = time.Millisecond
)

// pdtLayout formats EXT-X-PROGRAM-DATE-TIME values.
const pdtLayout = "2006-01-02T15:04:05.000Z07:00"

// writePlaylist writes the HLS VOD playlist of runs. uri returns the URI of
// an object (segment or init) by key. A gap between runs, a new init
// segment, or a change between backfilled and recorded segments starts a
// discontinuity; EXT-X-MAP is repeated at every init
// change.
func writePlaylist(w io.Writer, runs []run, uri func(key string) string) error {
	bw := bufio.NewWriter(w)
	target := 1
	independent := true
	for _, r := range runs {
		target = max(target, int(math.Ceil(r.dur.Seconds())))
		independent = independent && r.keyed
	}
	fmt.Fprintf(bw, "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n", target)
	if independent {
		bw.WriteString("#EXT-X-INDEPENDENT-SEGMENTS\n")
	}
	var prev *run
	for i := range runs {
		r := &runs[i]
		newInit := prev == nil || prev.seg.InitKey != r.seg.InitKey
		if prev != nil {
			gap := r.start.Sub(prev.end())
			// A backfilled segment's decode times count from the agent's
			// recording, not the camera server's: a discontinuity too.
			if newInit || gap > gapTolerance || gap < -gapTolerance || prev.seg.Backfilled != r.seg.Backfilled {
				bw.WriteString("#EXT-X-DISCONTINUITY\n")
			}
		}
		if newInit {
			fmt.Fprintf(bw, "#EXT-X-MAP:URI=%q\n", uri(r.seg.InitKey))
		}
		fmt.Fprintf(bw, "#EXT-X-PROGRAM-DATE-TIME:%s\n#EXTINF:%.3f,\n#EXT-X-BYTERANGE:%d@%d\n%s\n",
			r.start.UTC().Format(pdtLayout), r.dur.Seconds(), r.size, r.off, uri(r.seg.Key))
		prev = r
	}
	bw.WriteString("#EXT-X-ENDLIST\n")
	return bw.Flush()
}

// escapeKey escapes each element of an object key for a URL path.
func escapeKey(key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// objectURIs returns the URI of every object the runs need: presigned
// store URLs when the zone's store is S3 (players then fetch from the store
// directly, byte ranges included), else paths relative to the playlist that
// this node proxies, carrying the token. Objects still spooled (in rs) are
// always proxied: this node reads them from the holder, or from the store
// once they are uploaded. Init segments are proxied too, from this node's
// memory (initCache). So are the objects of a share link's token
// (c.Share): a presigned URL could not be revoked; and every object of a
// zone whose store is set to proxy_playback.
func (s *Service) objectURIs(r *http.Request, z *zone.Zone, runs []run, rs recentSet, token string, c auth.MediaClaims) (func(string) string, error) {
	q := "?token=" + url.QueryEscape(token)
	proxied := func(key string) string { return "obj/" + escapeKey(key) + q }
	s3, ok := z.Blobs.(*blob.S3)
	if !ok || c.Share != "" || z.ProxyPlayback {
		return proxied, nil
	}
	life := c.Expires.Sub(s.d.Now()).Truncate(time.Second)
	life = min(max(life, time.Second), 7*24*time.Hour)
	urls := map[string]string{}
	for _, rn := range runs {
		for _, key := range []string{rn.seg.InitKey, rn.seg.Key} {
			if _, done := urls[key]; done {
				continue
			}
			if rs.src[key] != nil {
				urls[key] = proxied(key)
				continue
			}
			// The init segment from this node's memory: one round trip to
			// the store less before the first picture.
			if key == rn.seg.InitKey && s.inits.load(r.Context(), c.CameraID, key, func(ctx context.Context, k string) ([]byte, error) {
				return readInit(ctx, z.Blobs, k)
			}) {
				urls[key] = proxied(key)
				continue
			}
			u, err := s3.PresignGet(r.Context(), key, life)
			if err != nil {
				return nil, err
			}
			urls[key] = u
		}
	}
	return func(key string) string { return urls[key] }, nil
}

// playlist answers GET /media/v1/playback/{camera}/index.m3u8?token=: the
// VOD playlist of the token's range.
func (s *Service) playlist(w http.ResponseWriter, r *http.Request) {
	c, cam, z, err := s.tokenCamera(r, authz.PermPlayback, "share.play", nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	segs, _, rs, err := s.segmentsOf(r.Context(), z, cam, c.From, c.To, c.Subject, false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	runs := mergeRuns(keyRuns(segs, c.From, c.To), minHLSSegment)
	if len(runs) == 0 {
		s.fail(w, r, httpapi.Errorf(http.StatusNotFound, "not_found", "nothing is recorded between %s and %s",
			c.From.Format(time.RFC3339), c.To.Format(time.RFC3339)))
		return
	}
	if len(runs) > maxHLSSegments {
		s.log.Warn("playlist truncated", "camera", c.CameraID, "segments", len(runs))
		runs = runs[:maxHLSSegments]
	}
	uri, err := s.objectURIs(r, z, runs, rs, r.URL.Query().Get("token"), c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/vnd.apple.mpegurl")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Vary", "Accept-Encoding")
	w = s.egress(w, cam, usage.EgressVOD, c.Share)
	var out io.Writer = w
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		gz, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
		defer func() { _ = gz.Close() }()
		out = gz
	}
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	if err := writePlaylist(out, runs, uri); err != nil {
		s.log.Error("playlist write failed", "camera", c.CameraID, "err", err)
	}
}
