package hub

import (
	"bytes"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
)

var (
	sps1, pps1 = []byte{0x67, 0x64, 0x00, 0x1f}, []byte{0x68, 0xee}
	sps2, pps2 = []byte{0x67, 0x4d, 0x00, 0x28}, []byte{0x68, 0xef}
	idr, slice = []byte{0x65, 0x88}, []byte{0x41, 0x9a}
)

// TestParamsUpdate: a unit with the current parameter sets (or none)
// changes nothing and allocates nothing; one with a different set gives a
// new codec holding copies, merged with the sets the unit lacks.
func TestParamsUpdate(t *testing.T) {
	start := &codecs.H264{SPS: sps1, PPS: pps1}
	p := NewParams(start)
	if !p.Complete() {
		t.Fatal("not complete with SPS and PPS")
	}
	same := [][]byte{sps1, pps1, idr}
	if allocs := testing.AllocsPerRun(100, func() {
		if p.Update(same) || p.Update([][]byte{slice}) {
			t.Fatal("changed without a different parameter set")
		}
	}); allocs != 0 {
		t.Fatalf("%v allocations per unchanged unit", allocs)
	}
	if p.Codec() != start {
		t.Fatal("codec replaced without a change")
	}
	au := [][]byte{bytes.Clone(sps2), idr}
	if !p.Update(au) {
		t.Fatal("new SPS not seen")
	}
	c := p.Codec().(*codecs.H264)
	if c == start || !bytes.Equal(c.SPS, sps2) || !bytes.Equal(c.PPS, pps1) {
		t.Fatalf("codec %x %x after a new SPS", c.SPS, c.PPS)
	}
	au[0][1] = 0 // the codec holds a copy, not the unit's bytes
	if !bytes.Equal(c.SPS, sps2) {
		t.Fatal("codec aliases the unit's payload")
	}
	if !bytes.Equal(start.SPS, sps1) {
		t.Fatal("the previous codec was modified")
	}
	if !SameParams(c, &codecs.H264{SPS: sps2, PPS: pps1}) || SameParams(c, start) {
		t.Fatal("SameParams")
	}

	h := NewParams(&codecs.H265{})
	if h.Complete() {
		t.Fatal("H.265 without parameter sets complete")
	}
	vps, sps, pps := []byte{32 << 1, 1}, []byte{33 << 1, 1}, []byte{34 << 1, 1}
	if !h.Update([][]byte{vps, sps}) || h.Complete() || !h.Update([][]byte{pps}) || !h.Complete() {
		t.Fatal("H.265 parameter sets not gathered")
	}
	if NewParams(&codecs.MPEG4Audio{}) != nil || NewParams(nil) != nil {
		t.Fatal("Params for a codec without parameter sets")
	}
}

// TestStreamFollowsParams: the stream gives the random access points of
// an H.264 track the track's codec, the same value until a unit brings new
// parameter sets; other units and tracks are left alone.
func TestStreamFollowsParams(t *testing.T) {
	first := &codecs.H264{SPS: sps1, PPS: pps1}
	s := New().Publish("cam", []Track{{ID: 1, Codec: first, ClockRate: 90000},
		{ID: 2, Codec: &codecs.MPEG4Audio{}, ClockRate: 48000}})
	r, _ := s.NewReader(100)
	units := []*Unit{
		{Track: 1, Key: true, Payload: [][]byte{sps1, pps1, idr}}, // 0: same sets
		{Track: 1, Payload: [][]byte{slice}},                      // 1: not a key
		{Track: 2, Key: true, Payload: [][]byte{{0x21}}},          // 2: audio
		{Track: 1, Key: true, Payload: [][]byte{idr}},             // 3: no sets
		{Track: 1, Payload: [][]byte{sps2, slice}},                // 4: new SPS, not a key
		{Track: 1, Key: true, Payload: [][]byte{slice}},           // 5: key flag on a slice
		{Track: 1, Key: true, Payload: [][]byte{sps2, pps2, idr}}, // 6: new sets
		{Track: 1, Key: true, Payload: [][]byte{{}, idr}},         // 7: empty NAL unit, no sets
	}
	for _, u := range units {
		s.Write(u)
	}
	got := make([]codecs.Codec, len(units))
	for i := range units {
		u, _ := r.Read()
		got[i] = u.Codec
	}
	if got[0] != first || got[3] != first {
		t.Fatal("random access points without new sets do not carry the track's codec")
	}
	for _, i := range []int{1, 2, 4, 5} {
		if got[i] != nil {
			t.Fatalf("unit %d was given a codec", i)
		}
	}
	if got[6] == first || !SameParams(got[6], &codecs.H264{SPS: sps2, PPS: pps2}) || got[7] != got[6] {
		t.Fatalf("new parameter sets not followed: %#v %#v", got[6], got[7])
	}
	// A unit written again keeps the codec of its first write.
	s.Write(&Unit{Track: 1, Key: true, Payload: [][]byte{sps1, pps1, idr}})
	s.Write(units[6])
	r.Read()
	if u, _ := r.Read(); u.Codec != got[6] {
		t.Fatal("a unit written again changed codec")
	}
}
