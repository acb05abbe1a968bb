package depack

import (
	"fmt"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/pion/rtp"
)

// add264 adds the NAL unit data of an H.264 packet (RFC 6184 section 5).
func (d *Depacketizer) add264(pkt *rtp.Packet) error {
	p := pkt.Payload
	if len(p) < 1 {
		return fmt.Errorf("depack: empty payload")
	}
	switch typ := h264.NALUType(p[0] & 0x1f); typ {
	case h264.NALUTypeFUA:
		if len(p) < 2 {
			return fmt.Errorf("depack: truncated FU-A")
		}
		start, end := p[1]&0x80 != 0, p[1]&0x40 != 0
		if !start {
			return d.continueFU(p[2:], pkt.SequenceNumber, end)
		}
		if d.inFU {
			return fmt.Errorf("depack: FU-A started before the previous one ended")
		}
		// The NAL unit header is the indicator's F and NRI bits with the
		// FU header's type.
		if err := d.startFU([]byte{p[0]&0xe0 | p[1]&0x1f}, p[2:], pkt.SequenceNumber); err != nil {
			return err
		}
		if end { // not allowed by the RFC, sent by some cameras for small frames
			return d.closeFU()
		}
		return nil
	case h264.NALUTypeSTAPA:
		if d.inFU {
			return fmt.Errorf("depack: STAP-A inside a FU-A")
		}
		return d.aggregated(p[1:])
	case h264.NALUTypeSTAPB, h264.NALUTypeMTAP16, h264.NALUTypeMTAP24, h264.NALUTypeFUB, 0:
		return ErrUnsupported
	default:
		if d.inFU {
			return fmt.Errorf("depack: NAL unit inside a FU-A")
		}
		return d.appendNALU(p)
	}
}

// add265 adds the NAL unit data of an H.265 packet (RFC 7798 section 4.4).
func (d *Depacketizer) add265(pkt *rtp.Packet) error {
	p := pkt.Payload
	if len(p) < 2 {
		return fmt.Errorf("depack: payload too short")
	}
	if p[1]&0x07 == 0 { // TemporalId + 1 of zero: not a NAL unit header, likely a start code
		return ErrUnsupported
	}
	switch typ := h265.NALUType((p[0] >> 1) & 0x3f); typ {
	case h265.NALUType_FragmentationUnit:
		if len(p) < 3 {
			return fmt.Errorf("depack: truncated FU")
		}
		start, end := p[2]&0x80 != 0, p[2]&0x40 != 0
		if !start {
			return d.continueFU(p[3:], pkt.SequenceNumber, end)
		}
		if d.inFU {
			return fmt.Errorf("depack: FU started before the previous one ended")
		}
		if end {
			return fmt.Errorf("depack: FU with both start and end bits")
		}
		// The NAL unit header is the payload header with the FU's type.
		return d.startFU([]byte{p[0]&0x81 | (p[2]&0x3f)<<1, p[1]}, p[3:], pkt.SequenceNumber)
	case h265.NALUType_AggregationUnit:
		if d.inFU {
			return fmt.Errorf("depack: AP inside a FU")
		}
		return d.aggregated(p[2:])
	case h265.NALUType_PACI:
		return ErrUnsupported
	default:
		if d.inFU {
			return fmt.Errorf("depack: NAL unit inside a FU")
		}
		return d.appendNALU(p)
	}
}
