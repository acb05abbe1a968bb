package depack

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph265"
	"github.com/pion/rtp"
)

// FuzzMatchesLibraryDecoder is a differential fuzz of the depacketiser
// against gortsplib's own rtph264 and rtph265 decoders, which the RTSP
// ingest used before the fast path and still uses when depack declines.
// The fuzz input drives a stream: access units of NAL units (valid headers,
// bodies with emulation prevention, some access units over the NAL unit
// limit), packetised as single NAL units, aggregation packets and
// fragmentation units in sizes the input picks, with or without the
// marker bit, and with packets dropped, truncated or with a damaged
// header. Every NAL unit carries a tag naming its access unit.
//
// Both decoders get the same packets. For every access unit with no
// damaged packet, both must give back exactly that access unit, and
// depack must report no error for its packets; for one over the NAL unit
// limit both must reject it the same way (the same output, if any).
// Damaged access units are not compared: the two recover differently
// inside one (depack drops the access unit so far, gortsplib keeps it),
// but both must be back in step at the next one. Once depack answers
// ErrUnsupported the stream is the library's (as in ingest), so the
// comparison ends there.
//
// Deliberate differences the stream avoids: gortsplib's H.265 decoder
// does not end an access unit on a new timestamp (so H.265 access units
// always carry the marker, and the one after a damaged one is not
// compared), and refuses a fragmentation unit with both start and end
// bits, which some H.264 cameras send and both accept for H.264.
//
// Not generated: zero padding after the last NAL unit of a STAP-A, which
// both take the same way since depack learned it
// (TestSTAPAPaddingLikeTheLibrary pins it against gortsplib).
func FuzzMatchesLibraryDecoder(f *testing.F) {
	for _, seed := range differentialSeeds() {
		f.Add(seed.isH265, seed.data)
	}
	f.Fuzz(func(t *testing.T, isH265 bool, data []byte) {
		compareDecoders(t, generate(isH265, &fuzzBytes{b: data}))
	})
}

// differentialSeed is one input of FuzzMatchesLibraryDecoder's seed corpus.
type differentialSeed struct {
	isH265 bool
	data   []byte
}

// differentialSeeds are a few hand-made inputs and pseudo-random ones.
func differentialSeeds() []differentialSeed {
	seeds := []differentialSeed{
		{false, []byte{}},
		{true, []byte{}},
		{false, []byte{4, 0x10, 1, 5, 0x40, 0x20, 3, 7, 1, 0xff, 0x30, 0x10, 2}},
		{true, []byte{4, 0x10, 1, 19, 0x40, 0x20, 3, 32, 1, 0xff, 0x30, 0x10, 2}},
		{false, overLimitSeed(false, 55)},
		{true, overLimitSeed(true, 25)},
	}
	r := rand.New(rand.NewPCG(13, 14))
	for _, isH265 := range []bool{false, true} {
		for _, size := range []int{300, 600, 1000, 1500, 2000, 3000} {
			b := make([]byte, size)
			for i := range b {
				b[i] = byte(r.IntN(256))
			}
			seeds = append(seeds, differentialSeed{isH265, b})
		}
	}
	return seeds
}

// overLimitSeed is an input whose first access unit has n NAL units of
// two bytes, sent as aggregation packets of four.
func overLimitSeed(isH265 bool, n int) []byte {
	b := []byte{0x40, 0, 0, 0, 0, 0xf5, byte(n - 15), 1}
	for range n {
		b = append(b, 0x21, 2, 0)
	}
	if !isH265 {
		b = append(b, 1) // the marker
	}
	for range n {
		b = append(b, 0x0c)
	}
	return b
}

// TestDifferentialSeedsCompare keeps the seed corpus meaningful: its
// streams must compare a good number of access units of both codecs,
// with and without the marker bit and over the NAL unit limit.
func TestDifferentialSeedsCompare(t *testing.T) {
	var got [2]comparison
	for _, seed := range differentialSeeds() {
		c := compareDecoders(t, generate(seed.isH265, &fuzzBytes{b: seed.data}))
		k := 0
		if seed.isH265 {
			k = 1
		}
		got[k].compared += c.compared
		got[k].overLimit += c.overLimit
		got[k].held += c.held
	}
	for k, name := range []string{"H.264", "H.265"} {
		if got[k].compared < 30 || got[k].overLimit < 1 || (k == 0 && got[k].held < 3) {
			t.Errorf("%s: the seeds compare %+v access units", name, got[k])
		}
	}
}

// fuzzBytes hands out the fuzz input byte by byte, then zeros.
type fuzzBytes struct{ b []byte }

func (f *fuzzBytes) next() byte {
	if len(f.b) == 0 {
		return 0
	}
	c := f.b[0]
	f.b = f.b[1:]
	return c
}

func (f *fuzzBytes) empty() bool { return len(f.b) == 0 }

// genPacket is one packet of a generated stream.
type genPacket struct {
	pkt *rtp.Packet
	au  int // the access unit it belongs to
}

// genStream is a generated stream: what was sent and what was damaged.
type genStream struct {
	isH265  bool
	aus     [][][]byte // the access units, by index
	marker  []bool     // the access unit's last packet carries the marker
	damaged []bool     // a packet of the access unit was dropped or changed (or, H.265, of the one before)
	// delivered counts the packets of the access unit that were not dropped.
	delivered []int
	packets   []genPacket
}

const (
	tagMagic    = 0xc3 // first body byte of every NAL unit; never elsewhere
	maxGenAUs   = 40
	maxGenBytes = 256 << 10 // of NAL units in one stream, so that an input runs in milliseconds
)

// overLimit reports whether access unit j has more NAL units than a
// decoder accepts.
func (s *genStream) overLimit(j int) bool {
	if s.isH265 {
		return len(s.aus[j]) > 21 // h265.MaxNALUsPerAccessUnit
	}
	return len(s.aus[j]) > 50 // h264.MaxNALUsPerAccessUnit
}

func generate(isH265 bool, in *fuzzBytes) *genStream {
	s := &genStream{isH265: isH265}
	maxPayload := 200 + 8*int(in.next())
	seq := uint16(in.next())<<8 | uint16(in.next())
	ts0 := uint32(in.next()) << 24
	total := 0
	for j := 0; j < maxGenAUs && total < maxGenBytes && !in.empty(); j++ {
		au := genAU(isH265, j, in)
		for _, n := range au {
			total += len(n)
		}
		marker := isH265 || in.next()%4 != 0
		s.aus, s.marker, s.damaged = append(s.aus, au), append(s.marker, marker), append(s.damaged, false)
		s.delivered = append(s.delivered, 0)
		pkts := packetise(isH265, au, maxPayload, in)
		for k, p := range pkts {
			pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq,
				Timestamp: ts0 + uint32(j)*3000, Marker: marker && k == len(pkts)-1}, Payload: p}
			seq++
			switch in.next() { // zero (the input used up) leaves the packet alone
			case 0xfd:
				s.damaged[j] = true
				continue // lost
			case 0xfe:
				s.damaged[j] = true
				pkt.Payload[int(in.next())%min(3, len(p))] ^= in.next() | 1
			case 0xff:
				s.damaged[j] = true
				pkt.Payload = p[:int(in.next())%len(p)]
			}
			s.packets = append(s.packets, genPacket{pkt: pkt, au: j})
			s.delivered[j]++
		}
	}
	if isH265 {
		for j := len(s.damaged) - 1; j > 0; j-- {
			s.damaged[j] = s.damaged[j] || s.damaged[j-1]
		}
	}
	return s
}

// genAU makes access unit j: NAL units with valid headers whose bodies
// start with a tag (magic, access unit, NAL unit index, check), then
// pseudo-random bytes with emulation prevention and a stop bit.
func genAU(isH265 bool, j int, in *fuzzBytes) [][]byte {
	n := 1 + int(in.next())%8
	if c := in.next(); c >= 0xf0 {
		n = 15 + int(in.next())%45
	}
	r := rand.New(rand.NewPCG(uint64(j), uint64(in.next())))
	au := make([][]byte, n)
	for i := range au {
		var nalu []byte
		if isH265 {
			nalu = []byte{(in.next() % 48) << 1, 1} // types 0..47, TemporalId 0 (+1)
		} else {
			c := in.next()
			nalu = []byte{c&0x60 | (1 + c%23)} // types 1..23
		}
		nalu = append(nalu, tagMagic, byte(1+j/255), byte(1+j%255), byte(1+i), tagCheck(j, i))
		size := int(in.next()) * (1 + int(in.next()%16))
		zeros := 0
		for range size {
			b := byte(r.IntN(256))
			if r.IntN(4) == 0 {
				b = 0 // zero runs, to exercise emulation prevention
			}
			if b == tagMagic {
				b++
			}
			if zeros >= 2 && b <= 3 {
				nalu, zeros = append(nalu, 3), 0
			}
			nalu = append(nalu, b)
			if b == 0 {
				zeros++
			} else {
				zeros = 0
			}
		}
		au[i] = append(nalu, 0x80)
	}
	return au
}

func tagCheck(j, i int) byte { return byte(j*31+i*7+0x5a) | 1 }

// tagOf returns the access unit a NAL unit names, or -1.
func tagOf(isH265 bool, nalu []byte) int {
	h := 1
	if isH265 {
		h = 2
	}
	if len(nalu) < h+5 || nalu[h] != tagMagic {
		return -1
	}
	j, i := int(nalu[h+1]-1)*255+int(nalu[h+2]-1), int(nalu[h+3])-1
	if i < 0 || nalu[h+4] != tagCheck(j, i) {
		return -1
	}
	return j
}

// packetise cuts an access unit into RTP payloads the way the input says.
func packetise(isH265 bool, au [][]byte, maxPayload int, in *fuzzBytes) [][]byte {
	var out [][]byte
	for i := 0; i < len(au); {
		d := in.next()
		nalu := au[i]
		switch {
		case d%4 == 0 && aggregateSize(isH265, au[i:i+1]) <= maxPayload:
			k := 1
			for k < 1+int(d/4)%4 && i+k < len(au) && aggregateSize(isH265, au[i:i+k+1]) <= maxPayload {
				k++
			}
			out = append(out, aggregate(isH265, au[i:i+k]))
			i += k
			continue
		case len(nalu) > maxPayload || d%4 == 1:
			out = append(out, fragmentUnits(isH265, nalu, maxPayload, in)...)
		default:
			out = append(out, append([]byte(nil), nalu...))
		}
		i++
	}
	return out
}

func aggregateSize(isH265 bool, nalus [][]byte) int {
	n := 1
	if isH265 {
		n = 2
	}
	for _, u := range nalus {
		n += 2 + len(u)
	}
	return n
}

// aggregate makes a STAP-A (H.264) or AP (H.265).
func aggregate(isH265 bool, nalus [][]byte) []byte {
	p := []byte{0x60 | 24}
	if isH265 {
		p = []byte{48 << 1, 1}
	}
	for _, u := range nalus {
		p = append(p, byte(len(u)>>8), byte(len(u)))
		p = append(p, u...)
	}
	return p
}

// fragmentUnits makes FU-A (H.264) or FU (H.265) packets of one NAL unit, in
// fragments of a size the input picks. An H.264 unit that fits may go as
// one fragment with both bits set; an H.265 one is always cut in two at
// least (gortsplib refuses the other).
func fragmentUnits(isH265 bool, nalu []byte, maxPayload int, in *fuzzBytes) [][]byte {
	hlen := 1
	if isH265 {
		hlen = 2
	}
	head := func(start, end bool) []byte {
		fu := byte(0)
		if start {
			fu |= 0x80
		}
		if end {
			fu |= 0x40
		}
		if isH265 {
			return []byte{nalu[0]&0x81 | 49<<1, nalu[1], fu | (nalu[0]>>1)&0x3f}
		}
		return []byte{nalu[0]&0xe0 | 28, fu | nalu[0]&0x1f}
	}
	data := nalu[hlen:]
	size := min(maxPayload-hlen-1, 8+int(in.next())*int(1+in.next()%16))
	if isH265 && size >= len(data) {
		size = max(1, len(data)/2)
	}
	var out [][]byte
	for off := 0; off < len(data); off += size {
		end := min(off+size, len(data))
		out = append(out, append(head(off == 0, end == len(data)), data[off:end]...))
	}
	return out
}

// libDecoder is gortsplib's decoder of the codec, behind one signature.
type libDecoder interface {
	Decode(*rtp.Packet) ([][]byte, error)
}

func newLibDecoder(isH265 bool) (libDecoder, error) {
	if isH265 {
		d := &rtph265.Decoder{}
		return d, d.Init()
	}
	d := &rtph264.Decoder{PacketizationMode: 1}
	return d, d.Init()
}

// decoded is what one decoder made of a stream.
type decoded struct {
	byAU     map[int][][][]byte // outputs whose NAL units all name one access unit
	errAU    map[int]bool       // access units with a packet the decoder reported an error for
	mixedAUs map[int]bool       // access units named in an output mixed with others or untagged units
}

func (d *decoded) add(isH265 bool, au [][]byte) {
	if au == nil {
		return
	}
	tags := map[int]bool{}
	for _, n := range au {
		tags[tagOf(isH265, n)] = true
	}
	if len(tags) == 1 && !tags[-1] {
		for j := range tags {
			d.byAU[j] = append(d.byAU[j], au)
		}
		return
	}
	for j := range tags {
		d.mixedAUs[j] = true
	}
}

// comparison counts the access units compareDecoders checked: all, those
// over the NAL unit limit, and those ended by the next one.
type comparison struct{ compared, overLimit, held int }

// compareDecoders runs both decoders on s and checks them.
func compareDecoders(t *testing.T, s *genStream) (c comparison) {
	lib, err := newLibDecoder(s.isH265)
	if err != nil {
		t.Fatal(err)
	}
	dp := New(s.isH265)
	ours := &decoded{byAU: map[int][][][]byte{}, errAU: map[int]bool{}, mixedAUs: map[int]bool{}}
	theirs := &decoded{byAU: map[int][][][]byte{}, errAU: map[int]bool{}, mixedAUs: map[int]bool{}}
	stopAt := len(s.aus) // the first access unit not compared (depack gave the stream up)
	for _, gp := range s.packets {
		// Decode may keep nothing of the packet: each decoder gets its own copy.
		p1, p2 := *gp.pkt, *gp.pkt
		p1.Payload, p2.Payload = append([]byte(nil), gp.pkt.Payload...), append([]byte(nil), gp.pkt.Payload...)
		au, err := dp.Decode(&p1)
		ours.add(s.isH265, au)
		if err != nil {
			ours.errAU[gp.au] = true
		}
		if errors.Is(err, ErrUnsupported) {
			stopAt = gp.au
			break
		}
		au, err = lib.Decode(&p2)
		theirs.add(s.isH265, au)
		if err != nil && !errors.Is(err, rtph264.ErrMorePacketsNeeded) && !errors.Is(err, rtph265.ErrMorePacketsNeeded) {
			theirs.errAU[gp.au] = true
		}
	}
	for j := 0; j < stopAt; j++ {
		if s.damaged[j] {
			continue
		}
		// An access unit without the marker ends when the next one starts;
		// so may one whose first complete NAL unit comes with the marker
		// and also ends the access unit before it (both decoders hand out
		// one per packet; gortsplib ends the one before at that packet).
		held := !s.marker[j] || (j > 0 && (!s.marker[j-1] || s.damaged[j-1]) && (len(s.aus[j]) == 1 || s.delivered[j] == 1))
		if held && (j+1 >= stopAt || s.damaged[j+1]) {
			continue
		}
		c.compared++
		if held {
			c.held++
		}
		if ours.mixedAUs[j] || theirs.mixedAUs[j] {
			t.Fatalf("access unit %d of %d came out mixed with others (depack %v, gortsplib %v)", j, len(s.aus),
				ours.mixedAUs[j], theirs.mixedAUs[j])
		}
		if s.overLimit(j) {
			c.overLimit++
			if !reflect.DeepEqual(ours.byAU[j], theirs.byAU[j]) {
				t.Fatalf("access unit %d (%d NAL units, over the limit): depack gave %d outputs, gortsplib %d, or different ones",
					j, len(s.aus[j]), len(ours.byAU[j]), len(theirs.byAU[j]))
			}
			continue
		}
		want := [][][]byte{s.aus[j]}
		if ours.errAU[j] {
			t.Fatalf("access unit %d (%d NAL units, undamaged): depack reported an error", j, len(s.aus[j]))
		}
		if !reflect.DeepEqual(ours.byAU[j], want) {
			t.Fatalf("access unit %d (%d NAL units, undamaged): depack gave %d outputs, want the access unit sent, once", j, len(s.aus[j]), len(ours.byAU[j]))
		}
		if !reflect.DeepEqual(theirs.byAU[j], want) {
			t.Fatalf("access unit %d (%d NAL units, undamaged): gortsplib gave %d outputs, want the access unit sent, once", j, len(s.aus[j]), len(theirs.byAU[j]))
		}
	}
	return c
}
