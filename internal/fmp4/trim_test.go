package fmp4

import (
	"bytes"
	"encoding/binary"
	"testing"

	mcfmp4 "github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
)

// TestTrimKeepsSamplesBeforeTheEnd trims the fragment of testTracks (25
// video samples of 3600 from 900000 and 3 audio samples of 1024 from
// 480000) and reads the copy back with mediacommon: each track keeps the
// samples presented before its end, at least one, with their own payloads,
// and the fragment keeps its size.
func TestTrimKeepsSamplesBeforeTheEnd(t *testing.T) {
	cases := []struct {
		name         string
		video, audio uint64 // ends
		wantV, wantA int
	}{
		{"inside both", 900000 + 10*3600 + 1, 480000 + 1024 + 1, 11, 2},
		{"on a sample start", 900000 + 10*3600, 480000 + 1024, 10, 1},
		{"before everything", 0, 0, 1, 1},
		{"after everything", 1 << 40, 1 << 40, 25, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			frag := AppendFragment(nil, 3, testTracks())
			var out bytes.Buffer
			var cp Copier
			err := cp.CopyCut(&out, bytes.NewReader(frag), int64(len(frag)), func(moof []byte) (int, error) {
				return Trim(moof, func(id uint32) uint64 {
					if id == 1 {
						return c.video
					}
					return c.audio
				})
			})
			if err != nil {
				t.Fatal(err)
			}
			if out.Len() != len(frag) {
				t.Errorf("trimmed fragment is %d bytes, want %d", out.Len(), len(frag))
			}
			var ps mcfmp4.Parts
			if err := ps.Unmarshal(out.Bytes()); err != nil {
				t.Fatalf("mediacommon cannot read the trimmed fragment: %v", err)
			}
			if len(ps) != 1 || len(ps[0].Tracks) != 2 {
				t.Fatalf("parts %+v", ps)
			}
			v, a := ps[0].Tracks[0], ps[0].Tracks[1]
			if len(v.Samples) != c.wantV || len(a.Samples) != c.wantA {
				t.Fatalf("kept %d video and %d audio samples, want %d and %d", len(v.Samples), len(a.Samples), c.wantV, c.wantA)
			}
			for i, s := range v.Samples {
				if want := []byte{0, 0, 0, 4, 1, 2, 3, byte(i)}; !bytes.Equal(s.Payload, want) || s.Duration != 3600 {
					t.Errorf("video sample %d: %x (%d), want %x", i, s.Payload, s.Duration, want)
				}
			}
			for i, s := range a.Samples {
				if !bytes.Equal(s.Payload, []byte{9, 9}) {
					t.Errorf("audio sample %d: %x", i, s.Payload)
				}
			}
		})
	}
}

// TestTrimByPresentationTime: with composition offsets (B-frames), a sample
// presented before the end is kept with every sample decoded before it.
func TestTrimByPresentationTime(t *testing.T) {
	v := &Track{ID: 1, LengthPrefixed: true}
	// Decode order I P B B P, presented I B B P P (3600 a frame).
	for i, cto := range []int32{3600, 4 * 3600, 0, 0, 3 * 3600} {
		v.Add(3600, cto, i > 0, [][]byte{{byte(i)}})
	}
	frag := AppendFragment(nil, 1, []*Track{v})
	moof := frag[:binary.BigEndian.Uint32(frag)]
	n, err := Trim(moof, func(uint32) uint64 { return 3*3600 + 1 }) // presented before: I (3600), B (2*3600), B (3*3600)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseMoof(moof[:n])
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Trafs[0].Dur; got != 4*3600 {
		t.Errorf("kept %d ticks, want the first 4 samples (I P B B)", got)
	}
}
