package rtppack_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph264"
	"github.com/pion/rtp"

	"github.com/camcloud/camcloud/internal/rtppack"
)

var h264Codec = codec{
	new: func(pt uint8, ssrc uint32, seq uint16, maxPacketSize int) packetizer {
		return rtppack.NewH264(pt, ssrc, seq, maxPacketSize)
	},
	decoder: func(t *testing.T) (func(*rtp.Packet) ([][]byte, error), error) {
		d := &rtph264.Decoder{PacketizationMode: 1}
		if err := d.Init(); err != nil {
			t.Fatal(err)
		}
		return d.Decode, rtph264.ErrMorePacketsNeeded
	},
}

// H.264 NAL unit headers (forbidden bit, NRI, type) used in the tests.
const (
	h264SPS   = 0x67
	h264PPS   = 0x68
	h264SEI   = 0x06
	h264IDR   = 0x65
	h264Slice = 0x41 // non-IDR, NRI 2
)

// At the default packet size (1460) an H.264 payload is 1448 bytes: a NAL
// unit of 1448 bytes is one packet, and a larger one FU-A fragments of up
// to 1446 bytes of the NAL unit after its header.
func TestH264RoundTrip(t *testing.T) {
	testRoundTrip(t, h264Codec, []roundTripCase{
		{name: "NAL unit of 1 byte", au: [][]byte{{h264Slice}}, packets: 1},
		{name: "small P", au: [][]byte{data(1, 100, h264Slice)}, packets: 1},
		{name: "at the fit boundary", au: [][]byte{data(2, 1448, h264Slice)}, packets: 1},
		{name: "boundary+1", au: [][]byte{data(3, 1449, h264Slice)}, packets: 2},
		{name: "last fragment of 1 byte", au: [][]byte{data(4, 1+2*1446+1, h264Slice)}, packets: 3},
		{name: "50 KB", au: [][]byte{data(5, 50*1024, h264IDR)}, packets: 36}, // 51199 = 35*1446 + 589
		{name: "several NAL units", au: [][]byte{
			data(6, 30, h264SEI), data(7, 1000, h264Slice), data(8, 1448, h264Slice), data(9, 3000, h264Slice), {h264Slice},
		}, packets: 1 + 1 + 1 + 3 + 1},
		{name: "IDR with SPS and PPS", au: [][]byte{
			data(10, 25, h264SPS), data(11, 4, h264PPS), data(12, 30000, h264IDR),
		}, packets: 1 + 1 + 21}, // 29999 = 20*1446 + 1079
		{name: "packet size 15", maxPacketSize: 15, au: [][]byte{{h264Slice, 1, 2}, data(13, 10, h264IDR)}, packets: 1 + 9},
		{name: "packet size 1200", maxPacketSize: 1200, au: [][]byte{data(14, 1188, h264IDR), data(15, 1189, h264IDR)}, packets: 1 + 2},
	})
}

// TestH264MatchesGortsplib compares the packets with those of gortsplib's
// own encoder (rtph264.Encoder, packetization mode 1, the same payload
// type, SSRC, first sequence number and payload size) on the same access
// units. Where gortsplib sends single NAL unit packets and FU-A the whole
// packets must be equal byte for byte (header and payload, so also the
// marker bit and sequence numbers). Two cases differ by design, and for
// them only the decoded access units are compared: gortsplib aggregates
// NAL units that fit together into STAP-A packets (we do not aggregate),
// and it fragments a NAL unit of exactly its payload size (it sends a
// single packet only when the NAL unit is smaller), which we send whole
// as it fits.
func TestH264MatchesGortsplib(t *testing.T) {
	cases := []struct {
		name  string
		au    [][]byte
		exact bool
	}{
		{"NAL unit of 1 byte", [][]byte{{h264Slice}}, true},
		{"small P", [][]byte{data(1, 100, h264Slice)}, true},
		{"at the fit boundary minus 1", [][]byte{data(2, 1447, h264Slice)}, true},
		{"at the fit boundary (gortsplib fragments)", [][]byte{data(2, 1448, h264Slice)}, false},
		{"boundary+1", [][]byte{data(3, 1449, h264Slice)}, true},
		{"50 KB", [][]byte{data(5, 50*1024, h264IDR)}, true},
		{"NAL units too large to aggregate", [][]byte{data(6, 1000, h264Slice), data(7, 1000, h264Slice), data(8, 3000, h264Slice)}, true},
		{"IDR with SPS and PPS (gortsplib: STAP-A)", [][]byte{data(10, 25, h264SPS), data(11, 4, h264PPS), data(12, 30000, h264IDR)}, false},
		{"small NAL units (gortsplib: STAP-A)", [][]byte{data(6, 30, h264SEI), data(7, 200, h264Slice)}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ours := packetize(t, rtppack.NewH264(testPT, testSSRC, testSeq, 0), tc.au, testTS)
			ssrc, seq := uint32(testSSRC), uint16(testSeq)
			enc := &rtph264.Encoder{
				PayloadType: testPT, SSRC: &ssrc, InitialSequenceNumber: &seq,
				PayloadMaxSize: rtppack.DefaultMaxPacketSize - rtppack.HeaderSize, PacketizationMode: 1,
			}
			if err := enc.Init(); err != nil {
				t.Fatal(err)
			}
			pkts, err := enc.Encode(tc.au)
			if err != nil {
				t.Fatal(err)
			}
			theirs := marshalAll(t, pkts, testTS)
			compareWithLibrary(t, ours, theirs, tc.exact, h264Codec, tc.au)
		})
	}
}

// marshalAll gives the library's packets the timestamp ts (its encoders
// leave it to the caller) and marshals them.
func marshalAll(t *testing.T, pkts []*rtp.Packet, ts uint32) [][]byte {
	t.Helper()
	out := make([][]byte, len(pkts))
	for i, pkt := range pkts {
		pkt.Timestamp = ts
		b, err := pkt.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		out[i] = b
	}
	return out
}

// compareWithLibrary checks our packets against the library encoder's:
// equal packet for packet when exact, otherwise different (the table
// says why) but decoding to the same access unit.
func compareWithLibrary(t *testing.T, ours, theirs [][]byte, exact bool, c codec, au [][]byte) {
	t.Helper()
	same := len(ours) == len(theirs)
	for i := 0; same && i < len(ours); i++ {
		same = bytes.Equal(ours[i], theirs[i])
	}
	if exact {
		if !same {
			t.Errorf("%d packets, gortsplib %d; they differ", len(ours), len(theirs))
			for i := 0; i < min(len(ours), len(theirs)); i++ {
				if !bytes.Equal(ours[i], theirs[i]) {
					t.Errorf("first difference at packet %d:\nours   % x\ntheirs % x", i, head(ours[i]), head(theirs[i]))
					break
				}
			}
		}
		return
	}
	if same {
		t.Errorf("packets equal to gortsplib's; the case expects a difference (mark it exact)")
	}
	for who, raw := range map[string][][]byte{"ours": ours, "gortsplib's": theirs} {
		pkts := make([]*rtp.Packet, len(raw))
		for i, b := range raw {
			pkts[i] = &rtp.Packet{}
			if err := pkts[i].Unmarshal(b); err != nil {
				t.Fatal(err)
			}
		}
		dec, more := c.decoder(t)
		if got := decode(t, dec, more, pkts); !slices.EqualFunc(got, au, bytes.Equal) {
			t.Errorf("%s packets decode to unit sizes %v, want %v (or bytes differ)", who, auSizes(got), auSizes(au))
		}
	}
}

// head is the start of a packet, for messages.
func head(b []byte) []byte {
	return b[:min(len(b), 20)]
}
