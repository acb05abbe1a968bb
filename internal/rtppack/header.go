// Package rtppack cuts access units into RTP packets without allocating.
//
// The edge agent relays every camera to the cloud at all times. gortsplib's
// format encoders (rtph264, rtph265, rtpmpeg4audio) allocate a packet
// struct and a payload copy for each RTP packet, which at a few hundred
// packets a second per camera is a large share of the agent's CPU. The
// packetisers here write each complete RTP packet (the 12-byte header and
// the payload) into one scratch buffer they own and hand it to a callback,
// so nothing is allocated per packet or per access unit once they are made.
//
// The packets are what gortsplib's decoders (the cloud's ingest) accept:
// H.264 as RFC 6184 packetization mode 1, H.265 as RFC 7798, AAC as RFC
// 3640 mpeg4-generic AAC-hbr. Packets are RTP version 2 with no padding,
// extension or CSRC.
//
// A packetiser is not safe for concurrent use; each track has its own.
package rtppack

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Emit receives one complete RTP packet (header and payload). pkt is only
// valid during the call: the packetiser reuses its buffer for the next
// packet. An error stops the access unit and is returned by Packetize.
type Emit func(pkt []byte) error

// Packetizer turns one access unit into RTP packets.
type Packetizer interface {
	// Packetize emits the RTP packets of one access unit whose RTP
	// timestamp is ts. For video, au holds the NAL units of one access
	// unit (no start codes, no AUD needed); for MPEG-4 audio, au holds
	// exactly one AAC access unit (au[0]). The last packet of a video
	// access unit has the marker bit set; every audio packet that ends an
	// AU has the marker bit set (as gortsplib does).
	Packetize(au [][]byte, ts uint32, emit Emit) error
}

// HeaderSize is the size of the RTP header the packetisers write: the
// fixed 12 bytes, as they add no CSRC and no extension.
const HeaderSize = 12

// DefaultMaxPacketSize is the whole RTP packet size (header and payload)
// used when a constructor is given 0. It is within the 1472 bytes of an
// IPv4/UDP datagram on a 1500-byte MTU (also gortsplib's limit for the
// packets it sends), so a receiver can forward the packets unchanged.
const DefaultMaxPacketSize = 1460

// MaxPacketSizeLimit is the largest accepted maxPacketSize: an RTP packet
// interleaved on an RTSP connection has a 16-bit length.
const MaxPacketSizeLimit = 65535

// Errors returned by Packetize. They are wrapped with detail; test them
// with errors.Is.
var (
	// ErrPacketSize: the packetiser was made with a maxPacketSize too small
	// to carry any payload of its codec, or over MaxPacketSizeLimit.
	ErrPacketSize = errors.New("rtppack: invalid maximum packet size")
	// ErrPayloadType: the payload type does not fit RTP's 7 bits.
	ErrPayloadType = errors.New("rtppack: invalid payload type")
	// ErrEmptyAU: the access unit has no NAL unit, no AAC AU or an empty
	// AAC AU.
	ErrEmptyAU = errors.New("rtppack: empty access unit")
	// ErrEmptyNALU: a NAL unit of the access unit is empty.
	ErrEmptyNALU = errors.New("rtppack: empty NAL unit")
	// ErrShortNALU: an H.265 NAL unit is shorter than its 2-byte header.
	ErrShortNALU = errors.New("rtppack: NAL unit shorter than its header")
	// ErrAUTooLarge: an AAC access unit is larger than the 13-bit AU-size
	// field can describe (8191 bytes).
	ErrAUTooLarge = errors.New("rtppack: access unit too large")
	// ErrMultipleAUs: more than one AAC access unit was given; one call
	// carries one AU at one timestamp.
	ErrMultipleAUs = errors.New("rtppack: more than one access unit")
)

// packer holds what all packetisers share: the scratch buffer every
// packet is built in, and the header fields.
type packer struct {
	buf  []byte // one whole packet: header, then payload; len is maxPacketSize
	pt   uint8
	ssrc uint32
	seq  uint16 // of the next packet
	err  error  // a configuration error, returned by every Packetize
}

// newPacker makes a packer; minPayload is the smallest payload with which
// the codec can still make progress on any input.
func newPacker(codec string, payloadType uint8, ssrc uint32, initialSeq uint16, maxPacketSize, minPayload int) packer {
	p := packer{pt: payloadType, ssrc: ssrc, seq: initialSeq}
	if maxPacketSize == 0 {
		maxPacketSize = DefaultMaxPacketSize
	}
	switch {
	case payloadType > 127:
		p.err = fmt.Errorf("%w: %d (%s; want 0..127)", ErrPayloadType, payloadType, codec)
	case maxPacketSize < HeaderSize+minPayload || maxPacketSize > MaxPacketSizeLimit:
		p.err = fmt.Errorf("%w: %d (%s needs %d..%d)",
			ErrPacketSize, maxPacketSize, codec, HeaderSize+minPayload, MaxPacketSizeLimit)
	default:
		p.buf = make([]byte, maxPacketSize)
	}
	return p
}

// Seq returns the sequence number of the next packet.
func (p *packer) Seq() uint16 {
	return p.seq
}

// payload is the part of the scratch buffer after the header.
func (p *packer) payload() []byte {
	return p.buf[HeaderSize:]
}

// send writes the header in front of the n payload bytes already in the
// buffer and emits the packet. The sequence number advances whether or
// not emit succeeds: the packet was handed out.
func (p *packer) send(n int, ts uint32, marker bool, emit Emit) error {
	putHeader(p.buf, p.pt, marker, p.seq, ts, p.ssrc)
	p.seq++
	return emit(p.buf[:HeaderSize+n])
}

// putHeader writes a 12-byte RTP header into b: version 2, no padding,
// no extension, no CSRC.
func putHeader(b []byte, payloadType uint8, marker bool, seq uint16, ts, ssrc uint32) {
	_ = b[HeaderSize-1]
	b[0] = 2 << 6
	b[1] = payloadType & 0x7f
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:4], seq)
	binary.BigEndian.PutUint32(b[4:8], ts)
	binary.BigEndian.PutUint32(b[8:12], ssrc)
}
