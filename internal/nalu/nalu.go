// Package nalu finds the parameter sets (VPS, SPS, PPS) carried in-band in
// H.264 and H.265 access units, and their random access points, for the
// places that follow a stream's codec (the hub's streams, ingest, the
// recorder, the sample loader).
package nalu

import (
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
)

// RandomAccess reports whether au, an access unit of a stream in codec c,
// is a random access point (for H.264 an IDR picture, for H.265 an IDR or
// CRA one), checked on the NAL units themselves; empty NAL units are
// skipped. Units of codecs other than H.264 and H.265 always are.
func RandomAccess(c codecs.Codec, au [][]byte) bool {
	switch c.(type) {
	case *codecs.H264:
		for _, n := range au {
			if len(n) > 0 && h264.NALUType(n[0]&0x1F) == h264.NALUTypeIDR {
				return true
			}
		}
		return false
	case *codecs.H265:
		for _, n := range au {
			if len(n) == 0 {
				continue
			}
			switch h265.NALUType((n[0] >> 1) & 0x3F) {
			case h265.NALUType_IDR_W_RADL, h265.NALUType_IDR_N_LP, h265.NALUType_CRA_NUT:
				return true
			}
		}
		return false
	}
	return true
}

// H264Params returns the last SPS and PPS in au; either is nil when absent.
// The slices alias au.
func H264Params(au [][]byte) (sps, pps []byte) {
	for _, n := range au {
		if len(n) == 0 {
			continue
		}
		switch h264.NALUType(n[0] & 0x1F) {
		case h264.NALUTypeSPS:
			sps = n
		case h264.NALUTypePPS:
			pps = n
		}
	}
	return sps, pps
}

// H265Params returns the last VPS, SPS and PPS in au; each is nil when
// absent. The slices alias au.
func H265Params(au [][]byte) (vps, sps, pps []byte) {
	for _, n := range au {
		if len(n) == 0 {
			continue
		}
		switch h265.NALUType((n[0] >> 1) & 0x3F) {
		case h265.NALUType_VPS_NUT:
			vps = n
		case h265.NALUType_SPS_NUT:
			sps = n
		case h265.NALUType_PPS_NUT:
			pps = n
		}
	}
	return vps, sps, pps
}
