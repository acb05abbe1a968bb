package hub

import (
	"bytes"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/camcloud/camcloud/internal/nalu"
)

// Params follows the parameter sets (VPS, SPS, PPS) of one H.264 or H.265
// track as its access units carry them in-band. The codec it holds is
// replaced, never modified, when they change, so that the values it hands
// out can be shared: a change shows as a new value (compare pointers),
// and SameParams tells whether two values carry the same parameter sets.
//
// A Stream keeps one for each of its H.264 and H.265 tracks and gives its
// codec to the track's random access points (Unit.Codec); a publisher
// keeps one to gather the parameter sets before it publishes (ingest).
// A Params is not safe for concurrent use.
type Params struct {
	codec codecs.Codec
}

// NewParams starts from the parameter sets of c. It returns nil unless c
// is a *codecs.H264 or a *codecs.H265, the codecs that carry them in-band.
func NewParams(c codecs.Codec) *Params {
	switch c.(type) {
	case *codecs.H264, *codecs.H265:
		return &Params{codec: c}
	}
	return nil
}

// Codec is the codec with the latest parameter sets.
func (p *Params) Codec() codecs.Codec { return p.codec }

// Complete reports whether every parameter set of the codec is known.
func (p *Params) Complete() bool { return HasParams(p.codec) }

// Update takes the parameter sets au carries. When one differs from the
// current ones, the codec becomes a new value holding copies of them (so
// that it does not pin the unit's payload) and Update reports true;
// otherwise it allocates nothing and reports false.
func (p *Params) Update(au [][]byte) bool {
	switch c := p.codec.(type) {
	case *codecs.H264:
		sps, pps := nalu.H264Params(au)
		if changed(sps, c.SPS) || changed(pps, c.PPS) {
			p.codec = &codecs.H264{SPS: pick(sps, c.SPS), PPS: pick(pps, c.PPS)}
			return true
		}
	case *codecs.H265:
		vps, sps, pps := nalu.H265Params(au)
		if changed(vps, c.VPS) || changed(sps, c.SPS) || changed(pps, c.PPS) {
			p.codec = &codecs.H265{VPS: pick(vps, c.VPS), SPS: pick(sps, c.SPS), PPS: pick(pps, c.PPS)}
			return true
		}
	}
	return false
}

// changed reports whether a parameter set found in a unit (nil when the
// unit has none) differs from the current one.
func changed(found, cur []byte) bool { return found != nil && !bytes.Equal(found, cur) }

// pick returns a copy of found when there is one, else cur.
func pick(found, cur []byte) []byte {
	if found == nil {
		return cur
	}
	return bytes.Clone(found)
}

// HasParams reports whether a video codec carries every parameter set it
// needs; codecs without in-band parameter sets always do.
func HasParams(c codecs.Codec) bool {
	switch c := c.(type) {
	case *codecs.H264:
		return len(c.SPS) > 0 && len(c.PPS) > 0
	case *codecs.H265:
		return len(c.VPS) > 0 && len(c.SPS) > 0 && len(c.PPS) > 0
	}
	return true
}

// SameParams reports whether a and b are H.264 or H.265 codecs of the same
// kind carrying the same parameter sets.
func SameParams(a, b codecs.Codec) bool {
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

// WithParams returns the access unit au of a random access point with the
// parameter sets of c in front when it carries no SPS of its own, so that
// a decoder can start there (a recorder's segment, a viewer joining); au
// is returned as it is otherwise, or when c is not H.264/H.265 or lacks
// parameter sets.
func WithParams(c codecs.Codec, au [][]byte) [][]byte {
	if !HasParams(c) {
		return au
	}
	switch c := c.(type) {
	case *codecs.H264:
		if sps, _ := nalu.H264Params(au); sps == nil {
			return append([][]byte{c.SPS, c.PPS}, au...)
		}
	case *codecs.H265:
		if _, sps, _ := nalu.H265Params(au); sps == nil {
			return append([][]byte{c.VPS, c.SPS, c.PPS}, au...)
		}
	}
	return au
}
