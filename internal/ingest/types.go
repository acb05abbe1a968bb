package ingest

import (
	"context"
	"errors"
	"time"
)

// Authorizer decides whether a camera may publish. It is implemented against
// the directory DB; ingest asks it before accepting any media.
type Authorizer interface {
	// AuthorizePublish returns nil when cameraID exists, secret is its ingest
	// secret and it is to be recorded; otherwise an error (wrap
	// ErrUnknownCamera for an unknown camera so RTSP answers 404, not 401).
	AuthorizePublish(ctx context.Context, cameraID, secret string) error
}

// ErrUnknownCamera may be wrapped by an Authorizer for a camera that does not
// exist, so that RTSP answers 404 instead of 401.
var ErrUnknownCamera = errors.New("ingest: unknown camera")

// StreamInfo describes a live publish for the camera status.
type StreamInfo struct {
	// Codec names the codecs, video first: "H264", "H265/AAC", ...
	Codec string
	// BitrateKbps is the media bitrate measured over the last report period.
	BitrateKbps int
	// Bytes is the media bytes received over the last report period (0 in
	// the first report of a publish): what usage counts as ingest.
	Bytes int64
	// Protocol is "rtsp", "rtmp" or "rtsp-pull".
	Protocol string
	// Remote is the peer address (host:port).
	Remote string
	// Unrecorded names the offered tracks that are not recorded (a codec
	// camcloud does not take, a second track of a kind), "" when none.
	Unrecorded string
}

// Events receives camera presence, so the holder and status can be recorded.
// Calls may come from many goroutines and must not block for long.
type Events interface {
	// Online is called when a publish starts and then about every 5 s with
	// the measured bitrate.
	Online(cameraID string, info StreamInfo)
	// Offline is called when the publish ends, unless another publish of the
	// same camera has replaced it, with when its media last flowed (a
	// stalled publish is dropped some seconds after that).
	Offline(cameraID string, lastMedia time.Time)
}

// nopEvents is used when Config.Events is nil.
type nopEvents struct{}

func (nopEvents) Online(string, StreamInfo) {}
func (nopEvents) Offline(string, time.Time) {}
