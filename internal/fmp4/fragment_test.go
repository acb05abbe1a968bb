package fmp4

import (
	"bytes"
	"encoding/binary"
	"testing"

	mcfmp4 "github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
)

// referenceFragment marshals tracks with mediacommon, the library whose
// layout the hand-written writer reproduces.
func referenceFragment(t testing.TB, seq uint32, tracks []*Track) []byte {
	t.Helper()
	part := mcfmp4.Part{SequenceNumber: seq}
	for _, tr := range tracks {
		if len(tr.Samples) == 0 {
			continue
		}
		pt := &mcfmp4.PartTrack{ID: tr.ID, BaseTime: tr.BaseTime}
		for _, s := range tr.Samples {
			var payload []byte
			for _, b := range s.Payload {
				if tr.LengthPrefixed {
					payload = binary.BigEndian.AppendUint32(payload, uint32(len(b)))
				}
				payload = append(payload, b...)
			}
			pt.Samples = append(pt.Samples, &mcfmp4.Sample{Duration: s.Duration, PTSOffset: s.CTO,
				IsNonSyncSample: s.NonSync, Payload: payload})
		}
		part.Tracks = append(part.Tracks, pt)
	}
	var buf seekablebuffer.Buffer
	if err := part.Marshal(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fragTracksFrom builds tracks from fuzz bytes: for each sample a track
// selector, flags, a duration, a composition offset and a payload.
func fragTracksFrom(data []byte) []*Track {
	tracks := []*Track{{ID: 1, BaseTime: 90000, LengthPrefixed: true}, {ID: 2, BaseTime: 1 << 40}, {ID: 7}}
	for len(data) >= 5 {
		tr := tracks[int(data[0])%len(tracks)]
		flags := data[1]
		dur := uint32(data[2]) * 100
		cto := int32(int8(data[3])) * 10
		n := int(data[4] % 16)
		data = data[5:]
		if n > len(data) {
			n = len(data)
		}
		var payload [][]byte
		for k := 0; k <= int(flags>>4)%3 && n > 0; k++ { // 1 to 3 elements
			m := (n + 1) / 2
			payload = append(payload, data[:m])
			data, n = data[m:], n-m
		}
		if len(payload) == 0 {
			payload = [][]byte{{0x41}}
		}
		if flags&4 != 0 {
			cto = 0
		}
		tr.Add(dur, cto, flags&1 != 0, payload)
	}
	return tracks
}

func TestAppendFragmentMatchesMediacommon(t *testing.T) {
	cases := []struct {
		name   string
		tracks []*Track
	}{
		{"video and audio", []*Track{
			{ID: 1, BaseTime: 3600, LengthPrefixed: true},
			{ID: 2, BaseTime: 1024},
		}},
		{"audio only", []*Track{{ID: 1, BaseTime: 1 << 35}}},
		{"empty track left out", []*Track{{ID: 1, LengthPrefixed: true}, {ID: 2}}},
	}
	cases[0].tracks[0].Add(3600, 7200, false, [][]byte{{0x67, 1, 2}, {0x68, 3}, {0x65, 4, 5, 6}})
	cases[0].tracks[0].Add(3600, -3600, true, [][]byte{{0x41, 7}})
	cases[0].tracks[1].Add(1024, 0, false, [][]byte{{0x21, 0x10, 0x04}})
	cases[0].tracks[1].Add(1024, 0, false, [][]byte{{0x21}, {0x22}})
	cases[1].tracks[0].Add(960, 0, false, [][]byte{{1, 2, 3}})
	cases[2].tracks[0].Add(3000, 0, false, [][]byte{{0x65}})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := AppendFragment(nil, 42, c.tracks)
			want := referenceFragment(t, 42, c.tracks)
			if !bytes.Equal(got, want) {
				t.Fatalf("fragment differs from mediacommon's:\n got %x\nwant %x", got, want)
			}
			// Appending to a non-empty buffer keeps what was there.
			prefix := []byte("prefix")
			if got := AppendFragment(prefix, 42, c.tracks); !bytes.Equal(got[len(prefix):], want) || string(got[:len(prefix)]) != "prefix" {
				t.Fatal("appending to a buffer changed the fragment or the prefix")
			}
			if err := CheckFragment(bytes.NewReader(want), 0, int64(len(want))); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// FuzzAppendFragment checks that the hand-written fragment is byte for byte
// what mediacommon writes, and that mediacommon parses it back to the same
// samples.
func FuzzAppendFragment(f *testing.F) {
	f.Add([]byte{0, 1, 36, 0, 5, 0x65, 1, 2, 3, 4, 1, 0, 10, 0, 3, 0x21, 2, 3})
	f.Add([]byte{0, 0x21, 36, 200, 9, 0x41, 1, 2, 3, 4, 5, 6, 7, 8, 2, 4, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		tracks := fragTracksFrom(data)
		got := AppendFragment(nil, 7, tracks)
		if want := referenceFragment(t, 7, tracks); !bytes.Equal(got, want) {
			t.Fatalf("fragment differs from mediacommon's:\n got %x\nwant %x", got, want)
		}
		var parts mcfmp4.Parts
		if err := parts.Unmarshal(got); err != nil {
			t.Fatalf("mediacommon cannot parse the fragment: %v", err)
		}
		if len(parts) != 1 || parts[0].SequenceNumber != 7 {
			t.Fatalf("parsed %d parts", len(parts))
		}
		i := 0
		for _, tr := range tracks {
			if len(tr.Samples) == 0 {
				continue
			}
			pt := parts[0].Tracks[i]
			i++
			if pt.ID != tr.ID || pt.BaseTime != tr.BaseTime || len(pt.Samples) != len(tr.Samples) {
				t.Fatalf("track %d: parsed id %d base %d, %d samples", tr.ID, pt.ID, pt.BaseTime, len(pt.Samples))
			}
			for k, s := range pt.Samples {
				w := tr.Samples[k]
				if s.Duration != w.Duration || s.PTSOffset != w.CTO || s.IsNonSyncSample != w.NonSync || len(s.Payload) != int(w.Size) {
					t.Fatalf("track %d sample %d: parsed %+v, want %+v", tr.ID, k, s, w)
				}
			}
		}
	})
}
