package depack

import (
	"fmt"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
)

// packing is how an RTP payload carries NAL units.
type packing uint8

const (
	single     packing = iota // the payload is one NAL unit
	aggregated                // (size, NAL unit) pairs from offset on
	fragment                  // a fragmentation unit: FU header at offset, data after it
)

// layout is where a payload's NAL unit data lies; for a fragment, header
// is the NAL unit header the fragments rebuild (hlen bytes of it).
type layout struct {
	packing packing
	offset  int
	header  [2]byte
	hlen    int
}

// layout264 reads an H.264 payload (RFC 6184 section 5).
func layout264(p []byte) (layout, error) {
	if len(p) < 1 {
		return layout{}, fmt.Errorf("depack: empty payload")
	}
	switch h264.NALUType(p[0] & 0x1f) {
	case h264.NALUTypeFUA:
		if len(p) < 2 {
			return layout{}, fmt.Errorf("depack: truncated FU-A")
		}
		// The indicator's F and NRI bits with the FU header's type.
		return layout{packing: fragment, offset: 1, header: [2]byte{p[0]&0xe0 | p[1]&0x1f}, hlen: 1}, nil
	case h264.NALUTypeSTAPA:
		return layout{packing: aggregated, offset: 1}, nil
	case h264.NALUTypeSTAPB, h264.NALUTypeMTAP16, h264.NALUTypeMTAP24, h264.NALUTypeFUB, 0:
		return layout{}, ErrUnsupported
	}
	return layout{packing: single}, nil
}

// layout265 reads an H.265 payload (RFC 7798 section 4.4).
func layout265(p []byte) (layout, error) {
	if len(p) < 2 {
		return layout{}, fmt.Errorf("depack: payload too short")
	}
	if p[1]&0x07 == 0 { // TemporalId + 1 of zero: not a NAL unit header, likely a start code
		return layout{}, ErrUnsupported
	}
	switch h265.NALUType((p[0] >> 1) & 0x3f) {
	case h265.NALUType_FragmentationUnit:
		if len(p) < 3 {
			return layout{}, fmt.Errorf("depack: truncated FU")
		}
		// The payload header with the FU's type.
		return layout{packing: fragment, offset: 2, header: [2]byte{p[0]&0x81 | (p[2]&0x3f)<<1, p[1]}, hlen: 2}, nil
	case h265.NALUType_AggregationUnit:
		return layout{packing: aggregated, offset: 2}, nil
	case h265.NALUType_PACI:
		return layout{}, ErrUnsupported
	}
	return layout{packing: single}, nil
}
