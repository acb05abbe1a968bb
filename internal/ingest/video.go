package ingest

import (
	"bytes"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
)

// videoTrack follows the parameter sets of an H.264 or H.265 stream, so that
// the hub gets them even when the camera only sends them in-band, and so
// that every key frame carries them.
type videoTrack struct {
	isH265        bool
	vps, sps, pps []byte
	needKey       bool
	// dirty tells that a parameter set changed since the stream started.
	dirty  bool
	dts264 h264.DTSExtractor
	dts265 h265.DTSExtractor
}

// newVideoTrack starts from the parameters of c (*codecs.H264 or *codecs.H265).
func newVideoTrack(c codecs.Codec) *videoTrack {
	v := &videoTrack{needKey: true}
	switch c := c.(type) {
	case *codecs.H264:
		v.sps, v.pps = c.SPS, c.PPS
	case *codecs.H265:
		v.isH265 = true
		v.vps, v.sps, v.pps = c.VPS, c.SPS, c.PPS
	}
	v.resetDTS()
	return v
}

func (v *videoTrack) resetDTS() {
	v.dts264 = h264.DTSExtractor{}
	v.dts264.Initialize()
	v.dts265 = h265.DTSExtractor{}
	v.dts265.Initialize()
}

// ready reports whether every parameter set the codec needs is known.
func (v *videoTrack) ready() bool {
	if v.isH265 {
		return len(v.vps) > 0 && len(v.sps) > 0 && len(v.pps) > 0
	}
	return len(v.sps) > 0 && len(v.pps) > 0
}

// codec returns a new codec value with the current parameters; published
// codecs are never modified since readers share them.
func (v *videoTrack) codec() codecs.Codec {
	if v.isH265 {
		return &codecs.H265{VPS: v.vps, SPS: v.sps, PPS: v.pps}
	}
	return &codecs.H264{SPS: v.sps, PPS: v.pps}
}

// nalType classifies a NAL unit: parameter set kind, access unit delimiter, VCL.
func (v *videoTrack) nalType(n []byte) (param int, aud, vcl bool) {
	if v.isH265 {
		if len(n) < 2 {
			return 0, true, false // too short: drop it like a delimiter
		}
		switch t := h265.NALUType((n[0] >> 1) & 0x3f); {
		case t == h265.NALUType_VPS_NUT:
			return 1, false, false
		case t == h265.NALUType_SPS_NUT:
			return 2, false, false
		case t == h265.NALUType_PPS_NUT:
			return 3, false, false
		case t == h265.NALUType_AUD_NUT:
			return 0, true, false
		default:
			return 0, false, t < 32
		}
	}
	switch t := h264.NALUType(n[0] & 0x1f); {
	case t == h264.NALUTypeSPS:
		return 2, false, false
	case t == h264.NALUTypePPS:
		return 3, false, false
	case t == h264.NALUTypeAccessUnitDelimiter:
		return 0, true, false
	default:
		return 0, false, t >= h264.NALUTypeNonIDR && t <= h264.NALUTypeIDR
	}
}

// absorb records in-band parameter sets (marking the track dirty when a
// known one changes) and drops delimiters and empty NAL units. It returns
// nil when the unit holds no picture.
func (v *videoTrack) absorb(au [][]byte) [][]byte {
	out := au[:0:0]
	hasVCL := false
	for _, n := range au {
		if len(n) == 0 {
			continue
		}
		param, aud, vcl := v.nalType(n)
		if aud {
			continue
		}
		hasVCL = hasVCL || vcl
		var dst *[]byte
		switch param {
		case 1:
			dst = &v.vps
		case 2:
			dst = &v.sps
		case 3:
			dst = &v.pps
		}
		if dst != nil && !bytes.Equal(*dst, n) {
			v.dirty = v.dirty || len(*dst) > 0
			*dst = bytes.Clone(n)
		}
		out = append(out, n)
	}
	if !hasVCL {
		return nil
	}
	return out
}

// isKey reports whether au is a random access point.
func (v *videoTrack) isKey(au [][]byte) bool {
	if v.isH265 {
		return h265.IsRandomAccess(au)
	}
	return h264.IsRandomAccess(au)
}

// prepare drops units before the first key frame and puts the parameter sets
// in front of key frames that lack them.
func (v *videoTrack) prepare(au [][]byte) ([][]byte, bool) {
	key := v.isKey(au)
	if v.needKey {
		if !key {
			return nil, false
		}
		v.needKey = false
		v.resetDTS()
	}
	if !key {
		return au, false
	}
	hasSPS := false
	for _, n := range au {
		if p, _, _ := v.nalType(n); p == 2 {
			hasSPS = true
		}
	}
	if hasSPS {
		return au, true
	}
	params := [][]byte{v.sps, v.pps}
	if v.isH265 {
		params = [][]byte{v.vps, v.sps, v.pps}
	}
	return append(params, au...), true
}

// extractDTS computes the decode time; on error it waits for a key frame.
func (v *videoTrack) extractDTS(au [][]byte, pts int64) (int64, error) {
	var dts int64
	var err error
	if v.isH265 {
		dts, err = v.dts265.Extract(au, pts)
	} else {
		dts, err = v.dts264.Extract(au, pts)
	}
	if err != nil {
		v.needKey = true
	}
	return dts, err
}
