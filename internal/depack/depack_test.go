package depack

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph265"
	"github.com/pion/rtp"
)

// encoder is the RTSP library's packetiser for one codec: the reference
// the depacketiser must invert.
type encoder interface {
	Encode([][]byte) ([]*rtp.Packet, error)
}

func newEncoder(t testing.TB, isH265 bool) encoder {
	t.Helper()
	if isH265 {
		e := &rtph265.Encoder{PayloadType: 96, PayloadMaxSize: 1200}
		if err := e.Init(); err != nil {
			t.Fatal(err)
		}
		return e
	}
	e := &rtph264.Encoder{PayloadType: 96, PayloadMaxSize: 1200, PacketizationMode: 1}
	if err := e.Init(); err != nil {
		t.Fatal(err)
	}
	return e
}

// randomAU returns an access unit of a few NAL units of random sizes, with
// valid headers and no start codes in their bodies.
func randomAU(r *rand.Rand, isH265 bool, key bool) [][]byte {
	var types []byte
	switch {
	case isH265 && key:
		types = []byte{32, 33, 34, 19} // VPS, SPS, PPS, IDR_W_RADL
	case isH265:
		types = []byte{1}
	case key:
		types = []byte{7, 8, 5} // SPS, PPS, IDR
	default:
		types = []byte{1}
	}
	sizes := map[bool]int{true: 60000, false: 6000}
	var au [][]byte
	for _, typ := range types {
		n := 4 + r.IntN(40)
		if typ == 5 || typ == 19 || typ == 1 {
			n = 1 + r.IntN(sizes[key])
		}
		b := make([]byte, n+2)
		for i := range b {
			b[i] = byte(r.IntN(254) + 1) // no zero bytes: no start codes
		}
		if isH265 {
			b[0], b[1] = typ<<1, 1
		} else {
			b[0] = 0x60 | typ
		}
		au = append(au, b)
	}
	return au
}

func TestDecodeInvertsTheLibraryEncoder(t *testing.T) {
	for _, isH265 := range []bool{false, true} {
		t.Run(map[bool]string{false: "h264", true: "h265"}[isH265], func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			enc := newEncoder(t, isH265)
			d := New(isH265)
			for i := range 200 {
				au := randomAU(r, isH265, i%25 == 0)
				pkts, err := enc.Encode(au)
				if err != nil {
					t.Fatal(err)
				}
				var got [][]byte
				for j, pkt := range pkts {
					pkt.Timestamp = uint32(i * 3600)
					out, err := d.Decode(pkt)
					if err != nil {
						t.Fatalf("AU %d packet %d: %v", i, j, err)
					}
					if out != nil && j != len(pkts)-1 {
						t.Fatalf("AU %d returned before its last packet", i)
					}
					got = out
				}
				if !reflect.DeepEqual(got, au) {
					t.Fatalf("AU %d: got %d NAL units, want %d (or different bytes)", i, len(got), len(au))
				}
			}
		})
	}
}

// TestDecodeSplitsOnTimestampWithoutMarker covers senders that do not set
// the marker bit: an access unit ends when the next one starts.
func TestDecodeSplitsOnTimestampWithoutMarker(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	enc := newEncoder(t, false)
	d := New(false)
	var prev [][]byte
	for i := range 20 {
		au := randomAU(r, false, i == 0)
		pkts, _ := enc.Encode(au)
		for j, pkt := range pkts {
			pkt.Timestamp, pkt.Marker = uint32(i*3600), false
			out, err := d.Decode(pkt)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case j == 0 && i > 0:
				if !reflect.DeepEqual(out, prev) {
					t.Fatalf("AU %d not returned when AU %d started", i-1, i)
				}
			case out != nil:
				t.Fatalf("AU %d packet %d: unexpected access unit", i, j)
			}
		}
		prev = au
	}
}

// TestDecodeOutputIsNotReused checks that a returned access unit keeps its
// bytes while later packets are decoded (readers of the hub share it).
func TestDecodeOutputIsNotReused(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	enc := newEncoder(t, false)
	d := New(false)
	var kept [][][]byte
	var want [][][]byte
	for i := range 30 {
		au := randomAU(r, false, i%10 == 0)
		want = append(want, clone(au))
		pkts, _ := enc.Encode(au)
		for _, pkt := range pkts {
			// The packet's memory is overwritten after Decode, as a reused
			// read buffer would be.
			out, err := d.Decode(pkt)
			if err != nil {
				t.Fatal(err)
			}
			for k := range pkt.Payload {
				pkt.Payload[k] = 0xee
			}
			if out != nil {
				kept = append(kept, out)
			}
		}
	}
	if !reflect.DeepEqual(kept, want) {
		t.Fatal("access units changed after later packets were decoded")
	}
}

func TestDecodeErrors(t *testing.T) {
	fu := func(seq uint16, ind, hdr byte, data ...byte) *rtp.Packet {
		return &rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: 1}, Payload: append([]byte{ind, hdr}, data...)}
	}
	cases := []struct {
		name    string
		isH265  bool
		pkts    []*rtp.Packet
		want    error // matched with errors.Is; nil means any error
		noStart bool
	}{
		{"annex-b in a single NAL unit", false, []*rtp.Packet{{Header: rtp.Header{Marker: true}, Payload: []byte{0, 0, 0, 1, 0x65, 1}}}, ErrUnsupported, false},
		{"start code inside a NAL unit", false, []*rtp.Packet{{Header: rtp.Header{Marker: true}, Payload: []byte{0x65, 1, 0, 0, 1, 0x41, 2}}}, ErrUnsupported, false},
		{"STAP-B", false, []*rtp.Packet{{Payload: []byte{25, 0, 0}}}, ErrUnsupported, false},
		{"H.265 PACI", true, []*rtp.Packet{{Payload: []byte{50 << 1, 1, 0}}}, ErrUnsupported, false},
		{"H.265 annex-b", true, []*rtp.Packet{{Payload: []byte{0, 0, 0, 1, 0x26, 1}}}, ErrUnsupported, false},
		{"fragment without start", false, []*rtp.Packet{fu(5, 0x7c, 0x05, 1, 2)}, errNoStart, true},
		{"lost fragment", false, []*rtp.Packet{fu(5, 0x7c, 0x85, 1), fu(7, 0x7c, 0x45, 2)}, nil, false},
		{"truncated STAP-A", false, []*rtp.Packet{{Payload: []byte{24, 0, 9, 0x67}}}, nil, false},
		{"empty payload", false, []*rtp.Packet{{}}, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := New(c.isH265)
			var err error
			for _, p := range c.pkts {
				if _, err = d.Decode(p); err != nil {
					break
				}
			}
			if err == nil {
				t.Fatal("no error")
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
			if IsNoStart(err) != c.noStart {
				t.Fatalf("IsNoStart(%v) = %v", err, !c.noStart)
			}
		})
	}
}

// TestLostFragmentDropsOnlyItsAccessUnit: after a gap the next access unit
// decodes again.
func TestLostFragmentDropsOnlyItsAccessUnit(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	enc := newEncoder(t, false)
	d := New(false)
	au := randomAU(r, false, true)
	pkts, _ := enc.Encode(au)
	if len(pkts) < 3 {
		t.Fatal("key frame too small to fragment")
	}
	var errs int
	for i, pkt := range pkts {
		if i == 1 {
			continue // lost
		}
		if _, err := d.Decode(pkt); err != nil {
			errs++
		}
	}
	if errs == 0 {
		t.Fatal("a lost fragment went unnoticed")
	}
	next := randomAU(r, false, false)
	if got := decodeAU(t, d, enc, next, 9000); !reflect.DeepEqual(got, next) {
		t.Fatal("the access unit after the loss was not decoded")
	}
}

func TestDecodeBoundsTheAccessUnit(t *testing.T) {
	d := New(false)
	d.maxSize = 3000
	enc := newEncoder(t, false)
	au := [][]byte{append([]byte{0x65}, make([]byte, 4000)...)}
	for i := range au[0][1:] {
		au[0][1+i] = 7
	}
	pkts, _ := enc.Encode(au)
	var err error
	for _, pkt := range pkts {
		if _, err = d.Decode(pkt); err != nil {
			break
		}
	}
	if err == nil {
		t.Fatal("an access unit over the limit was accepted")
	}
}

func BenchmarkDecode(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 10))
	enc := newEncoder(b, false)
	var pkts []*rtp.Packet
	var total int
	for i := range 50 {
		au := randomAU(r, false, i == 0)
		p, _ := enc.Encode(au)
		for _, pkt := range p {
			pkt.Timestamp = uint32(i * 3600)
			total += len(pkt.Payload)
		}
		pkts = append(pkts, p...)
	}
	b.Run("camcloud", func(b *testing.B) {
		b.SetBytes(int64(total))
		b.ReportAllocs()
		d := New(false)
		for b.Loop() {
			for _, pkt := range pkts {
				if _, err := d.Decode(pkt); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("gortsplib", func(b *testing.B) {
		b.SetBytes(int64(total))
		b.ReportAllocs()
		d := &rtph264.Decoder{PacketizationMode: 1}
		if err := d.Init(); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			for _, pkt := range pkts {
				if _, err := d.Decode(pkt); err != nil && !errors.Is(err, rtph264.ErrMorePacketsNeeded) {
					b.Fatal(err)
				}
			}
		}
	})
}

func clone(au [][]byte) [][]byte {
	out := make([][]byte, len(au))
	for i, n := range au {
		out[i] = append([]byte(nil), n...)
	}
	return out
}

// TestGluedKeyFrameRefusedLate: NAL units glued with start codes are
// refused in a key frame however late it comes.
func TestGluedKeyFrameRefusedLate(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	enc := newEncoder(t, false)
	d := New(false)
	decode := func(au [][]byte, ts uint32) error {
		pkts, _ := enc.Encode(au)
		for _, pkt := range pkts {
			pkt.Timestamp = ts
			if _, err := d.Decode(pkt); err != nil {
				return err
			}
		}
		return nil
	}
	for i := range 2 * scanAUs {
		if err := decode(randomAU(r, false, i == 0), uint32(i)); err != nil {
			t.Fatal(err)
		}
	}
	key := randomAU(r, false, true)
	glued := append(append(append([]byte(nil), key[0]...), 0, 0, 0, 1), key[2]...)
	if err := decode([][]byte{glued}, 1000); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("glued key frame: error %v, want ErrUnsupported", err)
	}
}

// TestHugeAccessUnitScratchNotKept: the depacketiser does not keep a
// scratch buffer larger than keepScratch after a huge access unit.
func TestHugeAccessUnitScratchNotKept(t *testing.T) {
	enc := newEncoder(t, false)
	d := New(false)
	for _, size := range []int{keepScratch / 2, 2 * keepScratch} {
		au := [][]byte{bytes.Repeat([]byte{0x65}, size)}
		if got := decodeAU(t, d, enc, au, 0); !reflect.DeepEqual(got, au) {
			t.Fatalf("%d-byte access unit not decoded", size)
		}
		if kept := cap(d.buf); (size <= keepScratch) != (kept >= size) {
			t.Fatalf("after a %d-byte access unit the scratch keeps %d bytes", size, kept)
		}
	}
}

// decodeAU packetises au with enc at timestamp ts and decodes the packets
// with d, failing on an error; it returns the access unit d gave back.
func decodeAU(t *testing.T, d *Depacketizer, enc encoder, au [][]byte, ts uint32) [][]byte {
	t.Helper()
	pkts, err := enc.Encode(au)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]byte
	for _, pkt := range pkts {
		pkt.Timestamp = ts
		out, err := d.Decode(pkt)
		if err != nil {
			t.Fatal(err)
		}
		if out != nil {
			got = out
		}
	}
	return got
}

// TestSTAPAPaddingLikeTheLibrary: zero bytes after the last NAL unit of an
// H.264 STAP-A are padding to gortsplib's decoder; depack takes the access
// unit the same way instead of refusing the packet (which kept the camera
// on the fast path and lost those access units). Padding before any NAL
// unit is refused by both.
func TestSTAPAPaddingLikeTheLibrary(t *testing.T) {
	sps := []byte{0x67, 0x42, 0xc0, 0x1f, 0xda}
	pps := []byte{0x68, 0xce, 0x3c, 0x80}
	stap := func(tail ...byte) []byte {
		b := []byte{0x18} // STAP-A
		for _, n := range [][]byte{sps, pps} {
			b = append(b, byte(len(n)>>8), byte(len(n)))
			b = append(b, n...)
		}
		return append(b, tail...)
	}
	cases := []struct {
		name    string
		payload []byte
		ok      bool
	}{
		{"no padding", stap(), true},
		{"two zero bytes", stap(0, 0), true},
		{"five zero bytes", stap(0, 0, 0, 0, 0), true},
		{"a zero size then data", stap(0, 0, 1), false},
		{"only padding", []byte{0x18, 0, 0, 0}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pkt := &rtp.Packet{Header: rtp.Header{Version: 2, Marker: true, PayloadType: 96, SequenceNumber: 1, Timestamp: 3600}, Payload: tc.payload}
			lib := &format.H264{PayloadTyp: 96, PacketizationMode: 1}
			ld, err := lib.CreateDecoder()
			if err != nil {
				t.Fatal(err)
			}
			want, lerr := ld.Decode(pkt)
			got, derr := New(false).Decode(pkt)
			if (lerr == nil) != tc.ok || (derr == nil) != tc.ok {
				t.Fatalf("library error %v, depack error %v; want ok=%v for both", lerr, derr, tc.ok)
			}
			if tc.ok && !reflect.DeepEqual(got, want) {
				t.Fatalf("depack %x, library %x", got, want)
			}
		})
	}
}
