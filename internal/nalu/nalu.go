// Package nalu finds the parameter sets (VPS, SPS, PPS) carried in-band in
// H.264 and H.265 access units, for the places that build codec
// descriptions from a stream (the recorder, the sample loader).
package nalu

import (
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
)

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
