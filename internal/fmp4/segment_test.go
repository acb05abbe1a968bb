package fmp4

import (
	"bytes"
	"errors"
	"testing"
)

// TestScanSegment scans fragments the recorder's writer lays out (video
// with a non-sync sample, and audio) and refuses broken ones.
func TestScanSegment(t *testing.T) {
	nal := func(n int) []byte { return bytes.Repeat([]byte{0x41}, n) }
	var seg []byte
	for i := range 3 {
		video := &Track{ID: 1, BaseTime: uint64(1000 + i*180000), LengthPrefixed: true}
		video.Add(90000, 0, false, [][]byte{nal(30), nal(7)})
		video.Add(90000, 0, true, [][]byte{nal(20)})
		audio := &Track{ID: 2, BaseTime: uint64(i * 96000)}
		audio.Add(48000, 0, false, [][]byte{nal(5)})
		audio.Add(48000, 0, false, [][]byte{nal(5)})
		seg = AppendFragment(seg, uint32(i+1), []*Track{video, audio})
	}
	tracks := map[uint32]bool{1: true, 2: false}
	frags, err := ScanSegment(bytes.NewReader(seg), int64(len(seg)), tracks)
	if err != nil {
		t.Fatal(err)
	}
	if len(frags) != 3 || frags[0].Offset != 0 || frags[2].Offset+frags[2].Size != int64(len(seg)) {
		t.Fatalf("fragments %+v", frags)
	}
	v, ok := frags[1].Traf(1)
	if !ok || v.Base != 181000 || v.Dur != 180000 || v.Samples != 2 || !v.FirstSync {
		t.Fatalf("video traf %+v", v)
	}
	if a, _ := frags[2].Traf(2); a.Base != 192000 || a.Dur != 96000 {
		t.Fatalf("audio traf %+v", a)
	}

	bad := func(name string, b []byte, size int64, tr map[uint32]bool) {
		t.Helper()
		if _, err := ScanSegment(bytes.NewReader(b), size, tr); !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTruncated) {
			t.Errorf("%s: %v, want a malformed or truncated segment", name, err)
		}
	}
	bad("truncated", seg[:len(seg)-3], int64(len(seg)-3), tracks)
	bad("size says more", seg, int64(len(seg)+10), tracks)
	bad("unknown track", seg, int64(len(seg)), map[uint32]bool{1: true})
	bad("garbage", bytes.Repeat([]byte{7}, 100), 100, tracks)
	bad("empty", nil, 0, tracks)
	// A NAL length that runs past its sample.
	broken := append([]byte(nil), seg...)
	moof, _ := ParseHeader(broken, int64(len(broken)))
	first := int(moof.Size) + BoxHeaderSize
	broken[first] = 0x7f
	bad("NAL length", broken, int64(len(broken)), tracks)
	// Trailing bytes after the last fragment.
	bad("trailing", append(append([]byte(nil), seg...), 0, 0, 0, 8), int64(len(seg)), tracks)
}
