package fmp4

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/camcloud/camcloud/internal/sample"
)

// testBox builds an ISO BMFF box with a 32-bit size.
func testBox(typ string, payload []byte) []byte {
	b := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint32(b, uint32(8+len(payload)))
	copy(b[4:], typ)
	return append(b, payload...)
}

// largeTestBox builds a box with a 64-bit size.
func largeTestBox(typ string, payload []byte) []byte {
	b := make([]byte, 16, 16+len(payload))
	binary.BigEndian.PutUint32(b, 1)
	copy(b[4:], typ)
	binary.BigEndian.PutUint64(b[8:], uint64(16+len(payload)))
	return append(b, payload...)
}

func TestCheckFragment(t *testing.T) {
	frag := append(testBox("moof", []byte("trafdata")), testBox("mdat", []byte("media"))...)
	cases := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"moof+mdat", frag, true},
		{"64-bit mdat", append(testBox("moof", nil), largeTestBox("mdat", []byte("xyz"))...), true},
		{"mdat to the end", append(testBox("moof", nil), 0, 0, 0, 0, 'm', 'd', 'a', 't', 1, 2, 3), true},
		{"torn mdat", frag[:len(frag)-1], false},
		{"mdat first", append(testBox("mdat", nil), testBox("moof", nil)...), false},
		{"moof only", testBox("moof", []byte("x")), false},
		{"size smaller than header", append([]byte{0, 0, 0, 4, 'm', 'o', 'o', 'f'}, testBox("mdat", nil)...), false},
		{"extra box", append(append([]byte{}, frag...), testBox("free", nil)...), false},
		{"empty", nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckFragment(bytes.NewReader(c.data), 0, int64(len(c.data)))
			if (err == nil) != c.ok {
				t.Errorf("CheckFragment = %v, want ok=%v", err, c.ok)
			}
		})
	}
	stream := append(append(append([]byte{}, frag...), frag...), 0, 0, 0)
	offs, sizes := ScanFragments(bytes.NewReader(stream), int64(len(stream)))
	if len(offs) != 2 || offs[1] != int64(len(frag)) || sizes[0] != int64(len(frag)) {
		t.Errorf("ScanFragments = %v %v", offs, sizes)
	}
}

// The three readers (at an offset, in a slice, from a stream) decode a
// header alike, because they share ParseHeader.
func TestHeaderReaders(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		size int64 // 0: error
	}{
		{"32-bit", testBox("moof", []byte("abc")), 11},
		{"64-bit", largeTestBox("mdat", []byte("abc")), 19},
		{"too small", []byte{0, 0, 0, 7, 'm', 'o', 'o', 'f'}, 0},
		{"past the data", []byte{0, 0, 0, 9, 'm', 'o', 'o', 'f'}, 0},
		{"torn 64-bit", []byte{0, 0, 0, 1, 'm', 'd', 'a', 't', 0, 0}, 0},
		{"short", []byte{0, 0, 0}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			at, err := ReadHeaderAt(bytes.NewReader(c.data), 0, int64(len(c.data)))
			if (err == nil) != (c.size > 0) || at.Size != c.size {
				t.Errorf("ReadHeaderAt = %+v, %v; want size %d", at, err, c.size)
			}
			in, err := boxAt(c.data, 0, len(c.data))
			if (err == nil) != (c.size > 0) || int64(in.end) != c.size {
				t.Errorf("boxAt = %+v, %v; want size %d", in, err, c.size)
			}
			if c.size == 0 {
				return
			}
			st, hdr, err := ReadHeader(bytes.NewReader(c.data), make([]byte, 16))
			if err != nil || st != at || len(hdr) != at.Len {
				t.Errorf("ReadHeader = %+v, %d header bytes, %v; want %+v", st, len(hdr), err, at)
			}
		})
	}
	// Size 0 ("to the end") has no end in a stream.
	if _, _, err := ReadHeader(bytes.NewReader([]byte{0, 0, 0, 0, 'm', 'd', 'a', 't'}), make([]byte, 16)); !errors.Is(err, ErrMalformed) {
		t.Errorf("ReadHeader of a size 0 box = %v, want ErrMalformed", err)
	}
}

func TestInitRoundTrip(t *testing.T) {
	smp, err := sample.Load(filepath.Join("..", "..", "testdata", "sample-h264.ts"))
	if err != nil {
		t.Fatal(err)
	}
	in := []InitTrack{{ID: 1, TimeScale: 90000, Codec: smp.Tracks[0].Codec}, {ID: 2, TimeScale: 48000, Codec: &codecs.Opus{ChannelCount: 2}}}
	b, err := MarshalInit(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ParseInit(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0].ID != 1 || out[0].TimeScale != 90000 || !out[0].Codec.IsVideo() ||
		out[1].ID != 2 || out[1].TimeScale != 48000 || out[1].Codec.IsVideo() {
		t.Errorf("ParseInit = %+v", out)
	}
	if _, err := ParseInit(testBox("moof", nil)); err == nil {
		t.Error("ParseInit accepted a moof")
	}
}

// FuzzBoxes: whatever the bytes, the fragment scanner and checker agree,
// and the moof parser and rewriters return errors rather than panic.
func FuzzBoxes(f *testing.F) {
	frag := append(testBox("moof", []byte("traf")), testBox("mdat", []byte("media"))...)
	f.Add(frag, int64(0), int64(len(frag)))
	f.Add(append(testBox("moof", nil), largeTestBox("mdat", nil)...), int64(0), int64(24))
	f.Add([]byte{0, 0, 0, 1, 'm', 'o', 'o', 'f', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, int64(0), int64(16))
	f.Add([]byte{0, 0, 0, 0, 'm', 'o', 'o', 'f'}, int64(-5), int64(1<<62))
	f.Add(AppendFragment(nil, 3, testTracks()), int64(0), int64(0))
	f.Fuzz(func(t *testing.T, data []byte, off, size int64) {
		r := bytes.NewReader(data)
		_ = CheckFragment(r, off, size)
		offs, sizes := ScanFragments(r, int64(len(data)))
		for i := range offs {
			if err := CheckFragment(r, offs[i], sizes[i]); err != nil {
				t.Fatalf("scanned fragment %d at %d+%d does not check: %v", i, offs[i], sizes[i], err)
			}
		}
		trimmed := bytes.Clone(data)
		n, terr := Trim(trimmed, func(uint32) uint64 { return uint64(size) })
		if terr == nil && (n < 0 || n > len(data)) {
			t.Fatalf("Trim returned %d for a %d-byte moof", n, len(data))
		}
		if m, err := ParseMoof(data); err == nil {
			if terr == nil {
				if _, err := ParseMoof(trimmed[:n]); err != nil {
					t.Fatalf("trimmed moof does not parse: %v", err)
				}
			}
			for i := range m.Trafs {
				_ = m.SetBase(data, i, 1<<33)
			}
			m.SetSeq(data, 1)
		}
		var c Copier
		_ = c.Copy(io.Discard, bytes.NewReader(data), int64(len(data)), func([]byte) error { return nil })
	})
}
