package rtppack_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/pion/rtp"

	"github.com/camcloud/camcloud/internal/rtppack"
)

// Test stream parameters shared by the codecs' tests.
const (
	testPT   = 96
	testSSRC = 0x1234abcd
	testTS   = 0xfffff000 // timestamps are opaque to the packetisers; near the wrap on purpose
	// testSeq makes every access unit of four packets or more wrap its
	// sequence numbers from 65535 to 0.
	testSeq = 65533
)

// packetizer is what every packetiser of the package offers.
type packetizer interface {
	rtppack.Packetizer
	Seq() uint16
}

// codec is one packetiser under test and the gortsplib decoder its packets
// are meant for.
type codec struct {
	new func(payloadType uint8, ssrc uint32, initialSeq uint16, maxPacketSize int) packetizer
	// decoder returns a fresh gortsplib decoder's Decode and the error it
	// returns while an access unit is incomplete.
	decoder func(t *testing.T) (func(*rtp.Packet) ([][]byte, error), error)
}

// roundTripCase is one access unit and how it must be packetised.
type roundTripCase struct {
	name          string
	maxPacketSize int // given to the constructor; 0 is the default
	au            [][]byte
	packets       int // how many packets it takes
}

// data returns n bytes starting with header and followed by pseudo-random
// bytes from seed. The bytes are never zero, so that no start code can
// appear, as in real NAL units (emulation prevention): gortsplib's
// H.264/H.265 decoders split reassembled NAL units at start codes.
func data(seed uint64, n int, header ...byte) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	copy(b, header)
	for i := len(header); i < n; i++ {
		b[i] = byte(1 + r.IntN(255))
	}
	return b
}

// packetize runs p on au and returns a copy of every packet emitted (the
// packetiser reuses its buffer).
func packetize(t *testing.T, p rtppack.Packetizer, au [][]byte, ts uint32) [][]byte {
	t.Helper()
	var out [][]byte
	err := p.Packetize(au, ts, func(pkt []byte) error {
		out = append(out, bytes.Clone(pkt))
		return nil
	})
	if err != nil {
		t.Fatalf("Packetize: %v", err)
	}
	return out
}

// checkPackets parses every raw packet with pion/rtp and checks what any
// packetiser's output must satisfy: RTP version 2 with no padding,
// extension or CSRC, the payload type, SSRC and timestamp given,
// consecutive sequence numbers from seq, the marker bit on the last packet
// only (each call is one access unit) and no packet over maxPacketSize.
func checkPackets(t *testing.T, raw [][]byte, seq uint16, ts uint32, maxPacketSize int) []*rtp.Packet {
	t.Helper()
	if len(raw) == 0 {
		t.Fatal("no packets")
	}
	pkts := make([]*rtp.Packet, len(raw))
	for i, b := range raw {
		if len(b) > maxPacketSize {
			t.Errorf("packet %d: %d bytes, over the maximum %d", i, len(b), maxPacketSize)
		}
		var pkt rtp.Packet
		if err := pkt.Unmarshal(b); err != nil {
			t.Fatalf("packet %d: pion Unmarshal: %v", i, err)
		}
		h := pkt.Header
		if h.Version != 2 || h.Padding || h.Extension || len(h.CSRC) != 0 {
			t.Errorf("packet %d: version %d, padding %v, extension %v, %d CSRC; want 2, none",
				i, h.Version, h.Padding, h.Extension, len(h.CSRC))
		}
		if h.PayloadType != testPT || h.SSRC != testSSRC || h.Timestamp != ts {
			t.Errorf("packet %d: PT %d, SSRC %#x, TS %#x; want %d, %#x, %#x",
				i, h.PayloadType, h.SSRC, h.Timestamp, testPT, testSSRC, ts)
		}
		if want := seq + uint16(i); h.SequenceNumber != want {
			t.Errorf("packet %d: sequence number %d, want %d", i, h.SequenceNumber, want)
		}
		if want := i == len(raw)-1; h.Marker != want {
			t.Errorf("packet %d of %d: marker %v, want %v", i, len(raw), h.Marker, want)
		}
		if len(pkt.Payload) != len(b)-rtppack.HeaderSize || len(pkt.Payload) == 0 {
			t.Errorf("packet %d: payload of %d bytes in a packet of %d", i, len(pkt.Payload), len(b))
		}
		pkts[i] = &pkt
	}
	return pkts
}

// decode feeds pkts to decode and returns the access unit it yields on the
// last packet; every earlier packet must ask for more.
func decode(t *testing.T, dec func(*rtp.Packet) ([][]byte, error), more error, pkts []*rtp.Packet) [][]byte {
	t.Helper()
	for i, pkt := range pkts {
		au, err := dec(pkt)
		if i < len(pkts)-1 {
			if !errors.Is(err, more) {
				t.Fatalf("decoding packet %d of %d: got %d units, err %v; want %v", i, len(pkts), len(au), err, more)
			}
			continue
		}
		if err != nil {
			t.Fatalf("decoding the last packet (%d): %v", i, err)
		}
		return au
	}
	return nil
}

// auSizes describes an access unit by its units' sizes, for messages.
func auSizes(au [][]byte) []int {
	n := make([]int, len(au))
	for i, u := range au {
		n[i] = len(u)
	}
	return n
}

// testRoundTrip packetises each case with a fresh packetiser, checks the
// packets and decodes them with a fresh gortsplib decoder, which must give
// back the access unit. Then it sends all the cases' access units (at
// their packet sizes' common default) through one packetiser and one
// decoder, as a stream, so that sequence numbers continue across units.
func testRoundTrip(t *testing.T, c codec, cases []roundTripCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			maxSize := tc.maxPacketSize
			if maxSize == 0 {
				maxSize = rtppack.DefaultMaxPacketSize
			}
			p := c.new(testPT, testSSRC, testSeq, tc.maxPacketSize)
			raw := packetize(t, p, tc.au, testTS)
			if len(raw) != tc.packets {
				t.Errorf("%d packets, want %d", len(raw), tc.packets)
			}
			if want := uint16(testSeq + len(raw)); p.Seq() != want {
				t.Errorf("Seq() = %d after %d packets from %d, want %d", p.Seq(), len(raw), testSeq, want)
			}
			pkts := checkPackets(t, raw, testSeq, testTS, maxSize)
			dec, more := c.decoder(t)
			if got := decode(t, dec, more, pkts); !slices.EqualFunc(got, tc.au, bytes.Equal) {
				t.Errorf("decoded unit sizes %v, want %v (or bytes differ)", auSizes(got), auSizes(tc.au))
			}
		})
	}
	t.Run("stream", func(t *testing.T) {
		p := c.new(testPT, testSSRC, 65000, 0)
		dec, more := c.decoder(t)
		seq, ts := uint16(65000), uint32(testTS)
		for range 3 {
			for _, tc := range cases {
				if tc.maxPacketSize != 0 {
					continue
				}
				raw := packetize(t, p, tc.au, ts)
				pkts := checkPackets(t, raw, seq, ts, rtppack.DefaultMaxPacketSize)
				if got := decode(t, dec, more, pkts); !slices.EqualFunc(got, tc.au, bytes.Equal) {
					t.Errorf("%s: decoded unit sizes %v, want %v (or bytes differ)", tc.name, auSizes(got), auSizes(tc.au))
				}
				seq += uint16(len(raw))
				ts += 3000
			}
		}
		if p.Seq() != seq {
			t.Errorf("Seq() = %d, want %d", p.Seq(), seq)
		}
	})
}

// errorCase is a packetiser and an access unit it must refuse.
type errorCase struct {
	name string
	p    packetizer
	au   [][]byte
	want error // nil: accepted (the edge of the valid range)
}

// TestErrors: invalid configurations and access units are refused with
// the documented error, before anything is emitted and without using a
// sequence number.
func TestErrors(t *testing.T) {
	nal264 := [][]byte{data(1, 100, 0x41)}
	nal265 := [][]byte{data(1, 100, 0x02, 0x01)}
	aac := [][]byte{data(1, 100, 0x21)}
	cases := []errorCase{
		{"H.264 nil AU", rtppack.NewH264(testPT, testSSRC, 7, 0), nil, rtppack.ErrEmptyAU},
		{"H.264 AU of no NAL unit", rtppack.NewH264(testPT, testSSRC, 7, 0), [][]byte{}, rtppack.ErrEmptyAU},
		{"H.264 empty NAL unit", rtppack.NewH264(testPT, testSSRC, 7, 0), [][]byte{{0x41}, {}}, rtppack.ErrEmptyNALU},
		{"H.264 empty NAL unit after a large one", rtppack.NewH264(testPT, testSSRC, 7, 0), [][]byte{data(1, 5000, 0x65), nil}, rtppack.ErrEmptyNALU},
		{"H.264 packet size 14", rtppack.NewH264(testPT, testSSRC, 7, 14), nal264, rtppack.ErrPacketSize},
		{"H.264 packet size 15", rtppack.NewH264(testPT, testSSRC, 7, 15), nal264, nil},
		{"H.264 packet size negative", rtppack.NewH264(testPT, testSSRC, 7, -1), nal264, rtppack.ErrPacketSize},
		{"H.264 packet size 65535", rtppack.NewH264(testPT, testSSRC, 7, 65535), nal264, nil},
		{"H.264 packet size 65536", rtppack.NewH264(testPT, testSSRC, 7, 65536), nal264, rtppack.ErrPacketSize},
		{"H.264 payload type 128", rtppack.NewH264(128, testSSRC, 7, 0), nal264, rtppack.ErrPayloadType},
		{"H.264 payload type 127", rtppack.NewH264(127, testSSRC, 7, 0), nal264, nil},

		{"H.265 nil AU", rtppack.NewH265(testPT, testSSRC, 7, 0), nil, rtppack.ErrEmptyAU},
		{"H.265 empty NAL unit", rtppack.NewH265(testPT, testSSRC, 7, 0), [][]byte{{0x02, 0x01}, {}}, rtppack.ErrEmptyNALU},
		{"H.265 NAL unit of 1 byte", rtppack.NewH265(testPT, testSSRC, 7, 0), [][]byte{data(1, 5000, 0x26, 0x01), {0x02}}, rtppack.ErrShortNALU},
		{"H.265 NAL unit of 2 bytes", rtppack.NewH265(testPT, testSSRC, 7, 0), [][]byte{{0x02, 0x01}}, nil},
		{"H.265 packet size 15", rtppack.NewH265(testPT, testSSRC, 7, 15), nal265, rtppack.ErrPacketSize},
		{"H.265 packet size 16", rtppack.NewH265(testPT, testSSRC, 7, 16), nal265, nil},
		{"H.265 packet size 65536", rtppack.NewH265(testPT, testSSRC, 7, 65536), nal265, rtppack.ErrPacketSize},
		{"H.265 payload type 200", rtppack.NewH265(200, testSSRC, 7, 0), nal265, rtppack.ErrPayloadType},

		{"AAC nil AU", rtppack.NewMPEG4Audio(testPT, testSSRC, 7, 0), nil, rtppack.ErrEmptyAU},
		{"AAC empty AU", rtppack.NewMPEG4Audio(testPT, testSSRC, 7, 0), [][]byte{{}}, rtppack.ErrEmptyAU},
		{"AAC two AUs", rtppack.NewMPEG4Audio(testPT, testSSRC, 7, 0), [][]byte{{0x21}, {0x21}}, rtppack.ErrMultipleAUs},
		{"AAC AU of 8191 bytes", rtppack.NewMPEG4Audio(testPT, testSSRC, 7, 0), [][]byte{data(1, 8191, 0x21)}, nil},
		{"AAC AU of 8192 bytes", rtppack.NewMPEG4Audio(testPT, testSSRC, 7, 0), [][]byte{data(1, 8192, 0x21)}, rtppack.ErrAUTooLarge},
		{"AAC packet size 16", rtppack.NewMPEG4Audio(testPT, testSSRC, 7, 16), aac, rtppack.ErrPacketSize},
		{"AAC packet size 17", rtppack.NewMPEG4Audio(testPT, testSSRC, 7, 17), aac, nil},
		{"AAC packet size 65536", rtppack.NewMPEG4Audio(testPT, testSSRC, 7, 65536), aac, rtppack.ErrPacketSize},
		{"AAC payload type 255", rtppack.NewMPEG4Audio(255, testSSRC, 7, 0), aac, rtppack.ErrPayloadType},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			emitted := 0
			err := tc.p.Packetize(tc.au, testTS, func([]byte) error {
				emitted++
				return nil
			})
			if tc.want == nil {
				if err != nil || emitted == 0 {
					t.Fatalf("err %v after %d packets; want success", err, emitted)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if emitted != 0 || tc.p.Seq() != 7 {
				t.Errorf("%d packets emitted and Seq() %d before the error; want none and 7", emitted, tc.p.Seq())
			}
		})
	}
}

// TestEmitError: an error from emit stops the access unit and is returned;
// the sequence numbers of the packets handed out stay used.
func TestEmitError(t *testing.T) {
	stop := errors.New("connection gone")
	cases := []struct {
		name string
		p    packetizer
		au   [][]byte
	}{
		{"H.264", rtppack.NewH264(testPT, testSSRC, 100, 0), [][]byte{data(1, 10000, 0x65)}},
		{"H.265", rtppack.NewH265(testPT, testSSRC, 100, 0), [][]byte{data(1, 10000, 0x26, 0x01)}},
		{"AAC", rtppack.NewMPEG4Audio(testPT, testSSRC, 100, 0), [][]byte{data(1, 5000, 0x21)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			emitted := 0
			err := tc.p.Packetize(tc.au, testTS, func([]byte) error {
				emitted++
				if emitted == 2 {
					return stop
				}
				return nil
			})
			if !errors.Is(err, stop) || emitted != 2 || tc.p.Seq() != 102 {
				t.Errorf("err %v after %d packets, Seq() %d; want %v after 2, 102", err, emitted, tc.p.Seq(), stop)
			}
		})
	}
}

// TestPacketizeDoesNotAllocate: in steady state (after a first call)
// Packetize allocates nothing, whether it fragments or not.
func TestPacketizeDoesNotAllocate(t *testing.T) {
	h264IDR := [][]byte{data(1, 25, 0x67), data(2, 4, 0x68), data(3, 100_000, 0x65)}
	h265IDR := [][]byte{data(1, 24, 0x40, 0x01), data(2, 40, 0x42, 0x01), data(3, 7, 0x44, 0x01), data(4, 100_000, 0x26, 0x01)}
	cases := []struct {
		name string
		p    rtppack.Packetizer
		au   [][]byte
	}{
		{"H.264 IDR", rtppack.NewH264(testPT, testSSRC, 0, 0), h264IDR},
		{"H.264 P", rtppack.NewH264(testPT, testSSRC, 0, 0), [][]byte{data(1, 300, 0x41)}},
		{"H.265 IDR", rtppack.NewH265(testPT, testSSRC, 0, 0), h265IDR},
		{"H.265 P", rtppack.NewH265(testPT, testSSRC, 0, 0), [][]byte{data(1, 300, 0x02, 0x01)}},
		{"AAC", rtppack.NewMPEG4Audio(testPT, testSSRC, 0, 0), [][]byte{data(1, 400, 0x21)}},
		{"AAC fragmented", rtppack.NewMPEG4Audio(testPT, testSSRC, 0, 0), [][]byte{data(1, 5000, 0x21)}},
	}
	noop := func([]byte) error { return nil }
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := uint32(0)
			var err error
			run := func() {
				if e := tc.p.Packetize(tc.au, ts, noop); e != nil {
					err = e
				}
				ts += 3000
			}
			run() // warm-up
			if allocs := testing.AllocsPerRun(100, run); allocs != 0 {
				t.Errorf("%v allocations per Packetize, want 0", allocs)
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
