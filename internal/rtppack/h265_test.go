package rtppack_test

import (
	"testing"

	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph265"
	"github.com/pion/rtp"

	"github.com/camcloud/camcloud/internal/rtppack"
)

var h265Codec = codec{
	new: func(pt uint8, ssrc uint32, seq uint16, maxPacketSize int) packetizer {
		return rtppack.NewH265(pt, ssrc, seq, maxPacketSize)
	},
	decoder: func(t *testing.T) (func(*rtp.Packet) ([][]byte, error), error) {
		d := &rtph265.Decoder{}
		if err := d.Init(); err != nil {
			t.Fatal(err)
		}
		return d.Decode, rtph265.ErrMorePacketsNeeded
	},
}

// H.265 NAL unit headers (type << 1, then layer 0 and TID 1) used in the
// tests.
var (
	h265VPS   = []byte{32 << 1, 0x01}
	h265SPS   = []byte{33 << 1, 0x01}
	h265PPS   = []byte{34 << 1, 0x01}
	h265SEI   = []byte{39 << 1, 0x01} // prefix SEI
	h265IDR   = []byte{19 << 1, 0x01} // IDR_W_RADL
	h265Trail = []byte{1 << 1, 0x01}  // TRAIL_R
	// h265Layered has the highest bit of LayerId set and TID 3, which the
	// FU payload header must carry over.
	h265Layered = []byte{1<<1 | 1, 0x0b}
)

// At the default packet size (1460) an H.265 payload is 1448 bytes: a NAL
// unit of 1448 bytes is one packet, and a larger one fragmentation units
// of up to 1445 bytes of the NAL unit after its 2-byte header.
func TestH265RoundTrip(t *testing.T) {
	testRoundTrip(t, h265Codec, []roundTripCase{
		{name: "NAL unit of 2 bytes", au: [][]byte{h265Trail}, packets: 1},
		{name: "small P", au: [][]byte{data(1, 100, h265Trail...)}, packets: 1},
		{name: "at the fit boundary", au: [][]byte{data(2, 1448, h265Trail...)}, packets: 1},
		{name: "boundary+1", au: [][]byte{data(3, 1449, h265Trail...)}, packets: 2},
		{name: "last fragment of 1 byte", au: [][]byte{data(4, 2+2*1445+1, h265Trail...)}, packets: 3},
		{name: "50 KB", au: [][]byte{data(5, 50*1024, h265IDR...)}, packets: 36}, // 51198 = 35*1445 + 623
		{name: "layer and TID kept", au: [][]byte{data(6, 5000, h265Layered...)}, packets: 4},
		{name: "several NAL units", au: [][]byte{
			data(7, 30, h265SEI...), data(8, 1000, h265Trail...), data(9, 1448, h265Trail...), data(10, 3000, h265Trail...), h265Trail,
		}, packets: 1 + 1 + 1 + 3 + 1},
		{name: "IDR with VPS, SPS and PPS", au: [][]byte{
			data(11, 24, h265VPS...), data(12, 40, h265SPS...), data(13, 7, h265PPS...), data(14, 30000, h265IDR...),
		}, packets: 1 + 1 + 1 + 21}, // 29998 = 20*1445 + 1098
		{name: "packet size 16", maxPacketSize: 16, au: [][]byte{{h265Trail[0], h265Trail[1], 1, 2}, data(15, 10, h265IDR...)}, packets: 1 + 8},
		{name: "packet size 1200", maxPacketSize: 1200, au: [][]byte{data(16, 1188, h265IDR...), data(17, 1189, h265IDR...)}, packets: 1 + 2},
	})
}

// TestH265MatchesGortsplib compares the packets with those of gortsplib's
// own encoder (rtph265.Encoder with the same payload type, SSRC, first
// sequence number and payload size) on the same access units, as
// TestH264MatchesGortsplib does: equal byte for byte where gortsplib sends
// single NAL unit packets and fragmentation units; only the decoded access
// units where it aggregates NAL units into an AP (type 48), or fragments a
// NAL unit of exactly its payload size, neither of which we do.
func TestH265MatchesGortsplib(t *testing.T) {
	cases := []struct {
		name  string
		au    [][]byte
		exact bool
	}{
		{"NAL unit of 2 bytes", [][]byte{h265Trail}, true},
		{"small P", [][]byte{data(1, 100, h265Trail...)}, true},
		{"at the fit boundary minus 1", [][]byte{data(2, 1447, h265Trail...)}, true},
		{"at the fit boundary (gortsplib fragments)", [][]byte{data(2, 1448, h265Trail...)}, false},
		{"boundary+1", [][]byte{data(3, 1449, h265Trail...)}, true},
		{"50 KB", [][]byte{data(5, 50*1024, h265IDR...)}, true},
		{"layer and TID kept", [][]byte{data(6, 5000, h265Layered...)}, true},
		{"NAL units too large to aggregate", [][]byte{data(7, 1000, h265Trail...), data(8, 1000, h265Trail...), data(9, 3000, h265Trail...)}, true},
		{"IDR with VPS, SPS and PPS (gortsplib: AP)", [][]byte{
			data(11, 24, h265VPS...), data(12, 40, h265SPS...), data(13, 7, h265PPS...), data(14, 30000, h265IDR...),
		}, false},
		{"small NAL units (gortsplib: AP)", [][]byte{data(7, 30, h265SEI...), data(8, 200, h265Trail...)}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ours := packetize(t, rtppack.NewH265(testPT, testSSRC, testSeq, 0), tc.au, testTS)
			ssrc, seq := uint32(testSSRC), uint16(testSeq)
			enc := &rtph265.Encoder{
				PayloadType: testPT, SSRC: &ssrc, InitialSequenceNumber: &seq,
				PayloadMaxSize: rtppack.DefaultMaxPacketSize - rtppack.HeaderSize,
			}
			if err := enc.Init(); err != nil {
				t.Fatal(err)
			}
			pkts, err := enc.Encode(tc.au)
			if err != nil {
				t.Fatal(err)
			}
			compareWithLibrary(t, ours, marshalAll(t, pkts, testTS), tc.exact, h265Codec, tc.au)
		})
	}
}
