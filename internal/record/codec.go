package record

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/bluenviron/gohlslib/v2/pkg/codecparams"
	hlscodecs "github.com/bluenviron/gohlslib/v2/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/camcloud/camcloud/internal/fmp4"
	"github.com/camcloud/camcloud/internal/nalu"
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
func codecString(c codecs.Codec) string {
	switch c := c.(type) {
	case *codecs.H264:
		return codecparams.Marshal(&hlscodecs.H264{SPS: c.SPS, PPS: c.PPS})
	case *codecs.H265:
		return codecparams.Marshal(&hlscodecs.H265{VPS: c.VPS, SPS: c.SPS, PPS: c.PPS})
	case *codecs.MPEG4Audio:
		return codecparams.Marshal(&hlscodecs.MPEG4Audio{Config: c.Config})
	case *codecs.Opus:
		return "opus"
	case *codecs.LPCM:
		return "ipcm"
	}
	return ""
}

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

// hasParams reports whether a video codec carries its parameter sets.
func hasParams(c codecs.Codec) bool {
	switch c := c.(type) {
	case *codecs.H264:
		return len(c.SPS) > 0 && len(c.PPS) > 0
	case *codecs.H265:
		return len(c.VPS) > 0 && len(c.SPS) > 0 && len(c.PPS) > 0
	}
	return true
}

// inbandParams returns a new codec value when the access unit carries
// parameter sets that differ from cur (or cur has none yet), else nil. The
// bytes are copied so that the codec does not pin the unit's payload.
func inbandParams(cur codecs.Codec, au [][]byte) codecs.Codec {
	switch c := cur.(type) {
	case *codecs.H264:
		sps, pps := nalu.H264Params(au)
		if sps == nil && pps == nil {
			return nil
		}
		nc := &codecs.H264{SPS: pick(sps, c.SPS), PPS: pick(pps, c.PPS)}
		if bytes.Equal(nc.SPS, c.SPS) && bytes.Equal(nc.PPS, c.PPS) {
			return nil
		}
		return nc
	case *codecs.H265:
		vps, sps, pps := nalu.H265Params(au)
		if vps == nil && sps == nil && pps == nil {
			return nil
		}
		nc := &codecs.H265{VPS: pick(vps, c.VPS), SPS: pick(sps, c.SPS), PPS: pick(pps, c.PPS)}
		if bytes.Equal(nc.VPS, c.VPS) && bytes.Equal(nc.SPS, c.SPS) && bytes.Equal(nc.PPS, c.PPS) {
			return nil
		}
		return nc
	}
	return nil
}

// pick returns a copy of n when present, else old.
func pick(n, old []byte) []byte {
	if n == nil {
		return old
	}
	return bytes.Clone(n)
}

// isVideoKey reports whether a video access unit is a random access point,
// checked on the NAL units themselves rather than trusting the flag alone.
func isVideoKey(c codecs.Codec, au [][]byte) bool {
	switch c.(type) {
	case *codecs.H264:
		return h264.IsRandomAccess(au)
	case *codecs.H265:
		return h265.IsRandomAccess(au)
	}
	return true
}

// sameParams reports whether two video codecs carry the same parameter sets.
func sameParams(a, b codecs.Codec) bool {
	switch a := a.(type) {
	case *codecs.H264:
		b, ok := b.(*codecs.H264)
		return ok && bytes.Equal(a.SPS, b.SPS) && bytes.Equal(a.PPS, b.PPS)
	case *codecs.H265:
		b, ok := b.(*codecs.H265)
		return ok && bytes.Equal(a.VPS, b.VPS) && bytes.Equal(a.SPS, b.SPS) && bytes.Equal(a.PPS, b.PPS)
	}
	return false
}
