package live

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"

	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/g711"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/pion/rtp"

	"github.com/camcloud/camcloud/internal/hub"
)

// rtpPayloadMax keeps RTP packets under the usual WebRTC path MTU.
const rtpPayloadMax = 1200

// g711PacketSamples is 20 ms of 8 kHz audio, the usual G.711 packet.
const g711PacketSamples = 160

// packetizer turns hub units of one track into RTP packets. The payload
// type and SSRC are set by pion per PeerConnection; the packetizer sets
// sequence numbers, marker bits and timestamps (the unit's PTS plus a random
// offset, as RFC 3550 asks).
type packetizer interface {
	packetize(u *hub.Unit) ([]*rtp.Packet, error)
}

func randomUint32() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint32(b[:])
}

// h264Packetizer packs H.264 access units (RFC 6184, packetization mode 1).
// Keyframes that lack SPS/PPS get the stream's, so that a viewer can start
// decoding at any keyframe.
type h264Packetizer struct {
	enc      rtph264.Encoder
	offset   uint32
	sps, pps []byte
}

func newH264Packetizer(sps, pps []byte) (*h264Packetizer, error) {
	p := &h264Packetizer{enc: rtph264.Encoder{PayloadType: 96, PacketizationMode: 1, PayloadMaxSize: rtpPayloadMax},
		offset: randomUint32(), sps: sps, pps: pps}
	return p, p.enc.Init()
}

func (p *h264Packetizer) packetize(u *hub.Unit) ([]*rtp.Packet, error) {
	au := nonEmpty(u.Payload)
	if len(au) == 0 {
		return nil, nil
	}
	var hasSPS, hasPPS, idr bool
	for _, n := range au {
		switch h264.NALUType(n[0] & 0x1F) {
		case h264.NALUTypeSPS:
			hasSPS, p.sps = true, n
		case h264.NALUTypePPS:
			hasPPS, p.pps = true, n
		case h264.NALUTypeIDR:
			idr = true
		}
	}
	if idr && (!hasSPS || !hasPPS) && p.sps != nil && p.pps != nil {
		au = append([][]byte{p.sps, p.pps}, au...)
	}
	pkts, err := p.enc.Encode(au)
	if err != nil {
		return nil, err
	}
	setTimestamp(pkts, uint32(u.PTS)+p.offset)
	return pkts, nil
}

// h265Packetizer packs H.265 access units (RFC 7798), adding the parameter
// sets to keyframes that lack them.
type h265Packetizer struct {
	enc           rtph265.Encoder
	offset        uint32
	vps, sps, pps []byte
}

func newH265Packetizer(vps, sps, pps []byte) (*h265Packetizer, error) {
	p := &h265Packetizer{enc: rtph265.Encoder{PayloadType: 96, PayloadMaxSize: rtpPayloadMax},
		offset: randomUint32(), vps: vps, sps: sps, pps: pps}
	return p, p.enc.Init()
}

func (p *h265Packetizer) packetize(u *hub.Unit) ([]*rtp.Packet, error) {
	au := nonEmpty(u.Payload)
	if len(au) == 0 {
		return nil, nil
	}
	var params, key bool
	for _, n := range au {
		switch h265.NALUType((n[0] >> 1) & 0x3F) {
		case h265.NALUType_VPS_NUT:
			params, p.vps = true, n
		case h265.NALUType_SPS_NUT:
			p.sps = n
		case h265.NALUType_PPS_NUT:
			p.pps = n
		case h265.NALUType_IDR_W_RADL, h265.NALUType_IDR_N_LP, h265.NALUType_CRA_NUT:
			key = true
		}
	}
	if key && !params && p.vps != nil && p.sps != nil && p.pps != nil {
		au = append([][]byte{p.vps, p.sps, p.pps}, au...)
	}
	pkts, err := p.enc.Encode(au)
	if err != nil {
		return nil, err
	}
	setTimestamp(pkts, uint32(u.PTS)+p.offset)
	return pkts, nil
}

// framePacketizer sends each audio frame (Opus) as one RTP packet.
type framePacketizer struct {
	seq    uint16
	offset uint32
}

func newFramePacketizer() *framePacketizer {
	return &framePacketizer{seq: uint16(randomUint32()), offset: randomUint32()}
}

func (p *framePacketizer) packetize(u *hub.Unit) ([]*rtp.Packet, error) {
	var out []*rtp.Packet
	for _, f := range nonEmpty(u.Payload) {
		out = append(out, &rtp.Packet{Header: rtp.Header{Version: 2, Marker: true, SequenceNumber: p.seq,
			Timestamp: uint32(u.PTS) + p.offset}, Payload: f})
		p.seq++
	}
	return out, nil
}

// g711Packetizer re-encodes 16-bit big-endian LPCM, which is how ingest
// carries G.711, back to µ-law or A-law in 20 ms packets.
type g711Packetizer struct {
	mulaw  bool
	seq    uint16
	offset uint32
}

func newG711Packetizer(mulaw bool) *g711Packetizer {
	return &g711Packetizer{mulaw: mulaw, seq: uint16(randomUint32()), offset: randomUint32()}
}

func (p *g711Packetizer) packetize(u *hub.Unit) ([]*rtp.Packet, error) {
	var out []*rtp.Packet
	for _, f := range nonEmpty(u.Payload) {
		pcm := f[:len(f)&^1]
		var enc []byte
		var err error
		if p.mulaw {
			enc, err = g711.Mulaw(pcm).Marshal()
		} else {
			enc, err = g711.Alaw(pcm).Marshal()
		}
		if err != nil {
			return nil, err
		}
		ts := uint32(u.PTS) + p.offset
		for len(enc) > 0 {
			n := min(len(enc), g711PacketSamples)
			out = append(out, &rtp.Packet{Header: rtp.Header{Version: 2, Marker: len(out) == 0, SequenceNumber: p.seq,
				Timestamp: ts}, Payload: bytes.Clone(enc[:n])})
			p.seq++
			ts += uint32(n)
			enc = enc[n:]
		}
	}
	return out, nil
}

func setTimestamp(pkts []*rtp.Packet, ts uint32) {
	for _, p := range pkts {
		p.Timestamp = ts
	}
}
