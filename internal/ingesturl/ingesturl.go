// Package ingesturl is the format of the URLs cameras push to:
// "/cam/<cameraID>/<secret>" on the RTSP and RTMP servers. It is a leaf, so
// that the api role formats these URLs without linking the ingest servers
// (and their RTSP and RTMP libraries) that parse them.
package ingesturl

import (
	"errors"
	"fmt"
	"strings"
)

// PathPrefix is the first path element of every ingest URL.
const PathPrefix = "cam"

// maxIDLen bounds camera IDs and secrets in ingest URLs.
const maxIDLen = 64

// ErrBadPath is returned by ParsePath for a path that is not an ingest path.
var ErrBadPath = errors.New("ingesturl: path is not /cam/<cameraID>/<secret>")

// ParsePath splits an ingest URL path "/cam/<cameraID>/<secret>" (a leading
// or trailing slash is optional; a query string must already be removed).
// This and URLs are the only places that know the URL scheme.
func ParsePath(path string) (cameraID, secret string, err error) {
	if len(path) > 2*maxIDLen+len(PathPrefix)+4 {
		return "", "", ErrBadPath
	}
	p := strings.TrimPrefix(path, "/")
	p = strings.TrimSuffix(p, "/")
	parts := strings.Split(p, "/")
	if len(parts) != 3 || parts[0] != PathPrefix || !ValidID(parts[1]) || !ValidID(parts[2]) {
		return "", "", ErrBadPath
	}
	return parts[1], parts[2], nil
}

// ValidID reports whether s may be a camera ID or secret in an ingest URL:
// 1 to 64 characters from [A-Za-z0-9_-].
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > maxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// URLs returns the RTSP and RTMP URLs a camera publishes to, given the bases
// of the two servers ("rtsp://host:8554", "rtmp://host:1935"; a trailing slash
// is ignored). For RTMP this is app "cam" and stream key "<cameraID>/<secret>".
func URLs(rtspBase, rtmpBase, cameraID, secret string) (rtspURL, rtmpURL string) {
	tail := fmt.Sprintf("/%s/%s/%s", PathPrefix, cameraID, secret)
	return strings.TrimSuffix(rtspBase, "/") + tail, strings.TrimSuffix(rtmpBase, "/") + tail
}

// LogPath is a path that is not an ingest path as a log line may show it:
// its first segment when it is short (a prefix such as "cam" or "live"),
// and for every other segment only its length, since any of them may be a
// camera's secret. Refused publishers are then told apart in the log
// without writing down what could be a credential:
// "/live/<20 chars>/<32 chars>".
func LogPath(path string) string {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	var b strings.Builder
	for i, p := range parts {
		if i == 8 {
			fmt.Fprintf(&b, "/...(%d more)", len(parts)-i)
			break
		}
		if i == 0 && len(p) <= 16 {
			b.WriteString("/" + strings.ToValidUTF8(p, "?"))
			continue
		}
		fmt.Fprintf(&b, "/<%d chars>", len(p))
	}
	return b.String()
}
