package live

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"

	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/g711"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
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

// videoPacketizer packs H.264 (RFC 6184, packetization mode 1) or H.265
// (RFC 7798) access units. Key frames that lack the parameter sets get the
// stream's current ones (the hub hands them out on random access points,
// Unit.Codec, or the track's own at the start), so that a viewer can
// start decoding at any key frame.
type videoPacketizer struct {
	enc interface {
		Encode([][]byte) ([]*rtp.Packet, error)
	}
	offset uint32
	codec  codecs.Codec
}

func newVideoPacketizer(c codecs.Codec) (*videoPacketizer, error) {
	p := &videoPacketizer{offset: randomUint32(), codec: c}
	switch c.(type) {
	case *codecs.H264:
		e := &rtph264.Encoder{PayloadType: 96, PacketizationMode: 1, PayloadMaxSize: rtpPayloadMax}
		p.enc = e
		return p, e.Init()
	case *codecs.H265:
		e := &rtph265.Encoder{PayloadType: 96, PayloadMaxSize: rtpPayloadMax}
		p.enc = e
		return p, e.Init()
	}
	return nil, fmt.Errorf("live: no RTP packetizer for %T", c)
}

func (p *videoPacketizer) packetize(u *hub.Unit) ([]*rtp.Packet, error) {
	au := nonEmpty(u.Payload)
	if len(au) == 0 {
		return nil, nil
	}
	if u.Codec != nil {
		p.codec = u.Codec
	}
	if u.Key {
		au = hub.WithParams(p.codec, au)
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
