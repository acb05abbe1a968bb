package rtppack_test

import (
	"bytes"
	"testing"

	"github.com/bluenviron/gortsplib/v5/pkg/format/rtpmpeg4audio"
	"github.com/pion/rtp"

	"github.com/camcloud/camcloud/internal/rtppack"
)

// aacCodec decodes as the cloud's ingest does for mode AAC-hbr.
var aacCodec = codec{
	new: func(pt uint8, ssrc uint32, seq uint16, maxPacketSize int) packetizer {
		return rtppack.NewMPEG4Audio(pt, ssrc, seq, maxPacketSize)
	},
	decoder: func(t *testing.T) (func(*rtp.Packet) ([][]byte, error), error) {
		d := &rtpmpeg4audio.Decoder{SizeLength: 13, IndexLength: 3, IndexDeltaLength: 3}
		if err := d.Init(); err != nil {
			t.Fatal(err)
		}
		return d.Decode, rtpmpeg4audio.ErrMorePacketsNeeded
	},
}

// aacStart begins the test AUs: a raw AAC AU, not an ADTS header (0xfff),
// which gortsplib's decoder would strip.
const aacStart = 0x21

// At the default packet size (1460) an AAC payload is 1448 bytes, 4 of
// them AU-headers-length and the AU-header: an AU of up to 1444 bytes is
// one packet, a larger one fragments of up to 1444 bytes.
func TestMPEG4AudioRoundTrip(t *testing.T) {
	testRoundTrip(t, aacCodec, []roundTripCase{
		{name: "AU of 1 byte", au: [][]byte{{aacStart}}, packets: 1},
		{name: "typical AU", au: [][]byte{data(1, 341, aacStart)}, packets: 1},
		{name: "at the fit boundary", au: [][]byte{data(2, 1444, aacStart)}, packets: 1},
		{name: "boundary+1", au: [][]byte{data(3, 1445, aacStart)}, packets: 2},
		{name: "two full fragments", au: [][]byte{data(4, 2*1444, aacStart)}, packets: 2},
		// 5120 bytes is the most gortsplib's decoder reassembles.
		{name: "5120 bytes", au: [][]byte{data(5, 5120, aacStart)}, packets: 4},
		{name: "8191 bytes in one packet", maxPacketSize: 8191 + 16, au: [][]byte{data(6, 8191, aacStart)}, packets: 1},
		{name: "packet size 17", maxPacketSize: 17, au: [][]byte{data(7, 5, aacStart)}, packets: 5},
		{name: "packet size 1200", maxPacketSize: 1200, au: [][]byte{data(8, 1185, aacStart)}, packets: 2},
	})
}

// TestMPEG4AudioFragments checks the framing of a fragmented AU byte by
// byte, up to the largest AU (8191 bytes, more than gortsplib's decoder
// reassembles): each packet has AU-headers-length 16 and one AU-header
// whose AU-size is the size of the fragment it carries (what gortsplib
// v5.6.4 writes and reads; see MPEG4Audio) and whose AU-Index is 0; the
// fragments joined are the AU; only the last has the marker bit.
func TestMPEG4AudioFragments(t *testing.T) {
	for _, size := range []int{1445, 5120, 8191} {
		au := data(uint64(size), size, aacStart)
		raw := packetize(t, rtppack.NewMPEG4Audio(testPT, testSSRC, testSeq, 0), [][]byte{au}, testTS)
		pkts := checkPackets(t, raw, testSeq, testTS, rtppack.DefaultMaxPacketSize)
		var joined []byte
		for i, pkt := range pkts {
			p := pkt.Payload
			if len(p) < 5 || p[0] != 0 || p[1] != 16 {
				t.Fatalf("AU of %d, packet %d: payload starts % x, want 00 10 and an AU-header", size, i, head(p))
			}
			auSize, auIndex := int(p[2])<<5|int(p[3])>>3, p[3]&7
			if auSize != len(p)-4 || auIndex != 0 {
				t.Errorf("AU of %d, packet %d: AU-size %d, AU-Index %d; want %d (the fragment), 0", size, i, auSize, auIndex, len(p)-4)
			}
			joined = append(joined, p[4:]...)
		}
		if !bytes.Equal(joined, au) {
			t.Errorf("AU of %d: fragments join to %d bytes that differ from the AU", size, len(joined))
		}
	}
}

// TestMPEG4AudioMatchesGortsplib compares the packets with those of
// gortsplib's encoder (rtpmpeg4audio.Encoder with sizeLength 13,
// indexLength 3, indexDeltaLength 3 and the same payload type, SSRC, first
// sequence number and payload size), given one AU at a time: they must be
// equal byte for byte, fragments included. (Given several AUs at once it
// would aggregate them, which a call here never does.)
func TestMPEG4AudioMatchesGortsplib(t *testing.T) {
	for _, size := range []int{1, 341, 1443, 1444, 1445, 2 * 1444, 5120, 8191} {
		au := [][]byte{data(uint64(size), size, aacStart)}
		ours := packetize(t, rtppack.NewMPEG4Audio(testPT, testSSRC, testSeq, 0), au, testTS)
		ssrc, seq := uint32(testSSRC), uint16(testSeq)
		enc := &rtpmpeg4audio.Encoder{
			PayloadType: testPT, SizeLength: 13, IndexLength: 3, IndexDeltaLength: 3,
			SSRC: &ssrc, InitialSequenceNumber: &seq, PayloadMaxSize: rtppack.DefaultMaxPacketSize - rtppack.HeaderSize,
		}
		if err := enc.Init(); err != nil {
			t.Fatal(err)
		}
		pkts, err := enc.Encode(au)
		if err != nil {
			t.Fatal(err)
		}
		theirs := marshalAll(t, pkts, testTS)
		if len(ours) != len(theirs) {
			t.Errorf("AU of %d: %d packets, gortsplib %d", size, len(ours), len(theirs))
			continue
		}
		for i := range ours {
			if !bytes.Equal(ours[i], theirs[i]) {
				t.Errorf("AU of %d, packet %d:\nours   % x\ntheirs % x", size, i, head(ours[i]), head(theirs[i]))
			}
		}
	}
}
