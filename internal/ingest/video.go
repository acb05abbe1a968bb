package ingest

import (
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/nalu"
)

// videoTrack follows the parameter sets of an H.264 or H.265 stream
// (hub.Params), so that the hub gets them even when the camera only sends
// them in-band, and so that every key frame carries them.
type videoTrack struct {
	params  *hub.Params
	isH265  bool
	needKey bool
	dts264  h264.DTSExtractor
	dts265  h265.DTSExtractor
}

// newVideoTrack starts from the parameters of c (*codecs.H264 or *codecs.H265).
func newVideoTrack(c codecs.Codec) *videoTrack {
	v := &videoTrack{params: hub.NewParams(c), needKey: true}
	_, v.isH265 = c.(*codecs.H265)
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
func (v *videoTrack) ready() bool { return v.params.Complete() }

// codec returns the codec with the current parameters; it is replaced, not
// modified, when they change, since readers share it.
func (v *videoTrack) codec() codecs.Codec { return v.params.Codec() }

// nalType classifies a NAL unit: access unit delimiter, VCL.
func (v *videoTrack) nalType(n []byte) (aud, vcl bool) {
	if v.isH265 {
		if len(n) < 2 {
			return true, false // too short: drop it like a delimiter
		}
		switch t := h265.NALUType((n[0] >> 1) & 0x3f); {
		case t == h265.NALUType_AUD_NUT:
			return true, false
		default:
			return false, t < 32
		}
	}
	switch t := h264.NALUType(n[0] & 0x1f); {
	case t == h264.NALUTypeAccessUnitDelimiter:
		return true, false
	default:
		return false, t >= h264.NALUTypeNonIDR && t <= h264.NALUTypeIDR
	}
}

// absorb drops delimiters and empty NAL units and takes the in-band
// parameter sets of what is left. It returns nil when the unit holds no
// picture.
func (v *videoTrack) absorb(au [][]byte) [][]byte {
	out := au[:0:0]
	hasVCL := false
	for _, n := range au {
		if len(n) == 0 {
			continue
		}
		aud, vcl := v.nalType(n)
		if aud {
			continue
		}
		hasVCL = hasVCL || vcl
		out = append(out, n)
	}
	v.params.Update(out)
	if !hasVCL {
		return nil
	}
	return out
}

// isKey reports whether au is a random access point.
func (v *videoTrack) isKey(au [][]byte) bool { return nalu.RandomAccess(v.params.Codec(), au) }

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
	return hub.WithParams(v.params.Codec(), au), true
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
