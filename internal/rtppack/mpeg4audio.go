package rtppack

import "fmt"

// MPEG-4 audio payload structures (RFC 3640, mode AAC-hbr).
const (
	// aacHeaders is what precedes the AU data in every packet: the 16-bit
	// AU-headers-length and one 16-bit AU-header (13-bit AU-size, 3-bit
	// AU-Index of 0).
	aacHeaders = 4
	// aacHeadersBits is the AU-headers-length field: one AU-header.
	aacHeadersBits = 16
)

// MaxAACAccessUnitSize is the largest AAC access unit MPEG4Audio accepts:
// the largest the 13-bit AU-size field describes.
const MaxAACAccessUnitSize = 1<<13 - 1

// MPEG4Audio packetises AAC access units as RFC 3640 mpeg4-generic in
// AAC-hbr mode (sizeLength 13, indexLength 3, indexDeltaLength 3), one AU
// per packet. An AU that fits is sent in one packet with the marker bit.
// A larger AU is fragmented across packets with the same timestamp, the
// marker bit only on the last.
//
// Each fragment carries one AU-header whose AU-size is the size of that
// fragment, not of the whole AU. RFC 3640 (section 3.2.1.1) asks for the
// whole AU's size, but the gortsplib this module uses (v5.6.4), whose
// decoder is the cloud's ingest, writes and reads the fragment's size: it
// rejects a packet whose AU-size exceeds its data ("payload is too
// short"). Later gortsplib (pull request 1150) moved both sides to the
// RFC's whole-AU size; when the module moves to it, fragments here must
// change with it. AUs over 1444 bytes, the only ones fragmented at the
// default packet size, are rare for AAC; that decoder also refuses
// fragmented AUs over 5120 bytes.
type MPEG4Audio struct {
	packer // the buffer, header fields and Seq
}

var _ Packetizer = (*MPEG4Audio)(nil)

// NewMPEG4Audio returns an AAC packetiser whose packets carry payloadType
// and ssrc, the first with sequence number initialSeq. maxPacketSize is
// the whole RTP packet size (header and payload); 0 means
// DefaultMaxPacketSize. A payload type over 127, or a maxPacketSize under
// 17 (a header, the AU headers and one byte) or over MaxPacketSizeLimit,
// makes every Packetize fail with ErrPayloadType or ErrPacketSize.
func NewMPEG4Audio(payloadType uint8, ssrc uint32, initialSeq uint16, maxPacketSize int) *MPEG4Audio {
	return &MPEG4Audio{packer: newPacker("MPEG-4 audio", payloadType, ssrc, initialSeq, maxPacketSize, aacHeaders+1)}
}

// Packetize emits the packets of the one AAC access unit au[0] (raw, no
// ADTS header) at RTP timestamp ts; the packet that ends it has the marker
// bit. Nothing is emitted if au is invalid.
func (p *MPEG4Audio) Packetize(au [][]byte, ts uint32, emit Emit) error {
	if p.packer.err != nil {
		return p.packer.err
	}
	switch {
	case len(au) == 0:
		return ErrEmptyAU
	case len(au) > 1:
		return fmt.Errorf("%w: %d AAC AUs in one call", ErrMultipleAUs, len(au))
	case len(au[0]) == 0:
		return fmt.Errorf("%w: the AAC AU has no bytes", ErrEmptyAU)
	case len(au[0]) > MaxAACAccessUnitSize:
		return fmt.Errorf("%w: AAC AU of %d bytes (max %d)", ErrAUTooLarge, len(au[0]), MaxAACAccessUnitSize)
	}
	payload := p.packer.payload()
	avail := len(payload) - aacHeaders
	payload[0] = aacHeadersBits >> 8
	payload[1] = aacHeadersBits & 0xff
	for data := au[0]; len(data) > 0; {
		n := min(len(data), avail)
		end := n == len(data)
		// AU-size (13 bits) of what this packet carries, then AU-Index 0.
		payload[2] = byte(n >> 5)
		payload[3] = byte(n << 3)
		copy(payload[aacHeaders:], data[:n])
		data = data[n:]
		if err := p.packer.send(aacHeaders+n, ts, end, emit); err != nil {
			return err
		}
	}
	return nil
}
