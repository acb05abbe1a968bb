package rtppack

// H.264 payload structures (RFC 6184).
const (
	h264FUA      = 28 // NAL unit type of a fragmentation unit (FU-A)
	h264FUAExtra = 2  // FU indicator and FU header
)

// H264 packetises H.264 access units as RFC 6184 packetization mode 1:
// a NAL unit that fits is sent as a single NAL unit packet, a larger one
// as FU-A fragments. Small NAL units are not aggregated into STAP-A
// packets: that would only save a header per parameter set, and receivers
// do not need it.
type H264 struct {
	packer // the buffer, header fields and Seq
}

var _ Packetizer = (*H264)(nil)

// NewH264 returns an H.264 packetiser whose packets carry payloadType and
// ssrc, the first with sequence number initialSeq. maxPacketSize is the
// whole RTP packet size (header and payload); 0 means
// DefaultMaxPacketSize. A payload type over 127, or a maxPacketSize under
// 15 (a header and an FU-A with one byte) or over MaxPacketSizeLimit,
// makes every Packetize fail with ErrPayloadType or ErrPacketSize.
func NewH264(payloadType uint8, ssrc uint32, initialSeq uint16, maxPacketSize int) *H264 {
	return &H264{packer: newPacker("H.264", payloadType, ssrc, initialSeq, maxPacketSize, h264FUAExtra+1)}
}

// Packetize emits the packets of the access unit au (its NAL units, without
// start codes) at RTP timestamp ts; the last packet has the marker bit.
// Nothing is emitted if au is invalid.
func (p *H264) Packetize(au [][]byte, ts uint32, emit Emit) error {
	return packetizeNALUs(&p.packer, &h264FU, au, ts, emit)
}

// h264FU is FU-A (RFC 6184 5.8): the NAL unit header is carried in the FU
// indicator (F and NRI, type 28) and the FU header (the NAL unit's type).
var h264FU = fuFormat{codec: "H.264", extra: h264FUAExtra, skip: 1, minNALU: 1,
	head: func(payload, nalu []byte) byte {
		payload[0] = nalu[0]&0xe0 | h264FUA
		return nalu[0] & 0x1f
	}}
