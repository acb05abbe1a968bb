package rtppack

// H.265 payload structures (RFC 7798).
const (
	h265FU      = 49 // NAL unit type of a fragmentation unit
	h265FUExtra = 3  // payload header (2 bytes) and FU header
)

// H265 packetises H.265 access units as RFC 7798 (without DON): a NAL unit
// that fits is sent as a single NAL unit packet, a larger one as
// fragmentation units (type 49). Small NAL units are not aggregated into
// AP packets: that would only save a header per parameter set, and
// receivers do not need it.
type H265 struct {
	packer // the buffer, header fields and Seq
}

var _ Packetizer = (*H265)(nil)

// NewH265 returns an H.265 packetiser whose packets carry payloadType and
// ssrc, the first with sequence number initialSeq. maxPacketSize is the
// whole RTP packet size (header and payload); 0 means
// DefaultMaxPacketSize. A payload type over 127, or a maxPacketSize under
// 16 (a header and an FU with one byte) or over MaxPacketSizeLimit, makes
// every Packetize fail with ErrPayloadType or ErrPacketSize.
func NewH265(payloadType uint8, ssrc uint32, initialSeq uint16, maxPacketSize int) *H265 {
	return &H265{packer: newPacker("H.265", payloadType, ssrc, initialSeq, maxPacketSize, h265FUExtra+1)}
}

// Packetize emits the packets of the access unit au (its NAL units, without
// start codes, each with its 2-byte header) at RTP timestamp ts; the last
// packet has the marker bit. Nothing is emitted if au is invalid.
func (p *H265) Packetize(au [][]byte, ts uint32, emit Emit) error {
	return packetizeNALUs(&p.packer, &h265FUFormat, au, ts, emit)
}

// h265FUFormat is RFC 7798 4.4.3: the payload header is the NAL unit
// header with type 49 (F, LayerId and TID kept); the FU header carries the
// NAL unit's type. A NAL unit shorter than its 2-byte header is refused
// (gortsplib's decoder refuses such packets).
var h265FUFormat = fuFormat{codec: "H.265", extra: h265FUExtra, skip: 2, minNALU: 2,
	head: func(payload, nalu []byte) byte {
		payload[0] = nalu[0]&0x81 | h265FU<<1
		payload[1] = nalu[1]
		return nalu[0] >> 1 & 0x3f
	}}
