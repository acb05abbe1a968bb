package rtppack_test

import (
	"testing"

	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph265"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtpmpeg4audio"
	"github.com/pion/rtp"

	"github.com/camcloud/camcloud/internal/rtppack"
)

// BenchmarkPacketize packetises one access unit per operation: an H.264
// or H.265 IDR unit of about 100 KB (with its parameter sets), a 10 KB P
// unit, and a 400-byte AAC AU (128 kbit/s at 48 kHz is about 340 bytes).
// "rtppack" is this package with an emit that only counts bytes;
// "gortsplib" is the library's encoder followed by pkt.MarshalTo into one
// reused buffer, what a sender had to do with it. (For the IDR units
// gortsplib aggregates the parameter sets into one packet, so it sends
// one or two packets fewer.)
func BenchmarkPacketize(b *testing.B) {
	h264IDR := [][]byte{data(1, 25, h264SPS), data(2, 4, h264PPS), data(3, 100_000, h264IDR)}
	h264P := [][]byte{data(4, 10_000, h264Slice)}
	h265IDR := [][]byte{data(1, 24, h265VPS...), data(2, 40, h265SPS...), data(3, 7, h265PPS...), data(4, 100_000, h265IDR...)}
	h265P := [][]byte{data(5, 10_000, h265Trail...)}
	aac := [][]byte{data(6, 400, aacStart)}
	payloadMax := rtppack.DefaultMaxPacketSize - rtppack.HeaderSize

	type encoder interface {
		Encode([][]byte) ([]*rtp.Packet, error)
	}
	newH264 := func() encoder {
		e := &rtph264.Encoder{PayloadType: testPT, PayloadMaxSize: payloadMax, PacketizationMode: 1}
		must(b, e.Init())
		return e
	}
	newH265 := func() encoder {
		e := &rtph265.Encoder{PayloadType: testPT, PayloadMaxSize: payloadMax}
		must(b, e.Init())
		return e
	}
	newAAC := func() encoder {
		e := &rtpmpeg4audio.Encoder{PayloadType: testPT, SizeLength: 13, IndexLength: 3, IndexDeltaLength: 3, PayloadMaxSize: payloadMax}
		must(b, e.Init())
		return e
	}

	cases := []struct {
		name string
		au   [][]byte
		ours func() rtppack.Packetizer
		lib  func() encoder
	}{
		{"H264/IDR-100KB", h264IDR, func() rtppack.Packetizer { return rtppack.NewH264(testPT, testSSRC, 0, 0) }, newH264},
		{"H264/P-10KB", h264P, func() rtppack.Packetizer { return rtppack.NewH264(testPT, testSSRC, 0, 0) }, newH264},
		{"H265/IDR-100KB", h265IDR, func() rtppack.Packetizer { return rtppack.NewH265(testPT, testSSRC, 0, 0) }, newH265},
		{"H265/P-10KB", h265P, func() rtppack.Packetizer { return rtppack.NewH265(testPT, testSSRC, 0, 0) }, newH265},
		{"AAC/400B", aac, func() rtppack.Packetizer { return rtppack.NewMPEG4Audio(testPT, testSSRC, 0, 0) }, newAAC},
	}
	for _, tc := range cases {
		size := 0
		for _, u := range tc.au {
			size += len(u)
		}
		b.Run(tc.name+"/rtppack", func(b *testing.B) {
			p := tc.ours()
			sent := 0
			emit := func(pkt []byte) error {
				sent += len(pkt)
				return nil
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			ts := uint32(0)
			for b.Loop() {
				must(b, p.Packetize(tc.au, ts, emit))
				ts += 3000
			}
			b.ReportMetric(float64(sent)/float64(b.N), "wire-B/op")
		})
		b.Run(tc.name+"/gortsplib", func(b *testing.B) {
			e := tc.lib()
			buf := make([]byte, rtppack.DefaultMaxPacketSize)
			sent := 0
			b.SetBytes(int64(size))
			b.ReportAllocs()
			ts := uint32(0)
			for b.Loop() {
				pkts, err := e.Encode(tc.au)
				must(b, err)
				for _, pkt := range pkts {
					pkt.Timestamp = ts
					n, err := pkt.MarshalTo(buf)
					must(b, err)
					sent += n
				}
				ts += 3000
			}
			b.ReportMetric(float64(sent)/float64(b.N), "wire-B/op")
		})
	}
}

// must fails the benchmark on an error.
func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}
