package record

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/camcloud/camcloud/internal/fmp4"
	"github.com/camcloud/camcloud/internal/hub"
)

// supported reports whether the recorder can write c into fMP4. G.711 is
// expected as codecs.LPCM (decoded by ingest), since fMP4 players do not
// take G.711 samples.
func supported(c codecs.Codec) bool {
	switch c.(type) {
	case *codecs.H264, *codecs.H265, *codecs.MPEG4Audio, *codecs.Opus, *codecs.LPCM:
		return true
	}
	return false
}

// codecName is a short human name for logs.
func codecName(c codecs.Codec) string {
	if c == nil {
		return "none"
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", c), "*codecs.")
}

// codecString is the RFC 6381 "codecs" parameter of one track, e.g.
// "avc1.4d401f" or "mp4a.40.2"; empty when there is none.
func codecString(c codecs.Codec) string { return fmp4.CodecString(c) }

// codecsString joins the codec strings of tracks, in track order.
func codecsString(tracks []*trackState) string {
	var parts []string
	for _, t := range tracks {
		if s := codecString(t.codec); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ",")
}

// buildInit marshals the fMP4 init segment for tracks and returns it with
// its content hash (first 16 hex digits of SHA-256), which names it.
func buildInit(tracks []*trackState) ([]byte, string, error) {
	its := make([]fmp4.InitTrack, 0, len(tracks))
	for _, t := range tracks {
		its = append(its, fmp4.InitTrack{ID: t.id, TimeScale: uint32(t.clock), Codec: t.codec})
	}
	b, err := fmp4.MarshalInit(its)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(b)
	return b, hex.EncodeToString(sum[:])[:16], nil
}

// newParams returns the codec of the lead track's keyframe u when its
// parameter sets (followed by the hub, see hub.Unit.Codec) differ from
// those of cur and from those found unusable before (rejected), else nil.
func newParams(cur, rejected codecs.Codec, u *hub.Unit) codecs.Codec {
	c := u.Codec
	if c == nil || c == cur || hub.SameParams(c, cur) || hub.SameParams(c, rejected) {
		return nil
	}
	return c
}
