package spool

import (
	"bytes"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/fmp4"
	"github.com/camcloud/camcloud/internal/store"
)

func TestParseSidecar(t *testing.T) {
	hdr := encodeHeader(sidecarHeader{V: 1, Camera: "cam1", Start: 1772366400000000, Init: "0123456789abcdef", Codec: "avc1.4d401f"})
	f1 := encodeFragment(store.Fragment{Offset: 0, Size: 100, Duration: time.Second, Key: true})
	f2 := encodeFragment(store.Fragment{Offset: 100, Size: 50, Start: time.Second, Duration: time.Second})
	join := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	cases := []struct {
		name  string
		data  []byte
		frags int // -1: error
	}{
		{"complete", join(hdr, f1, f2), 2},
		{"torn last line", join(hdr, f1, f2[:10]), 1},
		{"garbage line stops", join(hdr, []byte("{oops}\n"), f1), 0},
		{"negative size", join(hdr, []byte(`{"o":0,"s":-1,"t":0,"d":0,"k":false}`+"\n")), 0},
		{"header only", hdr, 0},
		{"torn header", hdr[:len(hdr)-1], -1},
		{"bad version", join([]byte(`{"v":9,"cam":"cam1","start":1,"init":"0123456789abcdef"}`+"\n"), f1), -1},
		{"bad camera", join([]byte(`{"v":1,"cam":"../x","start":1,"init":"0123456789abcdef"}`+"\n"), f1), -1},
		{"bad init hash", join([]byte(`{"v":1,"cam":"cam1","start":1,"init":"../../etc"}`+"\n"), f1), -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sc, err := parseSidecar(c.data)
			if c.frags < 0 {
				if err == nil {
					t.Fatal("parseSidecar succeeded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(sc.Fragments) != c.frags {
				t.Errorf("%d fragments, want %d", len(sc.Fragments), c.frags)
			}
			if sc.Header.Camera != "cam1" {
				t.Errorf("header %+v", sc.Header)
			}
		})
	}
}

func TestKeysAndIDs(t *testing.T) {
	start := time.Date(2026, 1, 2, 23, 59, 59, 123456789, time.FixedZone("JST", 9*3600))
	if got, want := SegmentKey("c1", start), "cam/c1/2026/01/02/1767365999123456.m4s"; got != want {
		t.Errorf("segmentKey = %q, want %q", got, want)
	}
	if got, want := InitKey("c1", "0123456789abcdef"), "cam/c1/init/0123456789abcdef.mp4"; got != want {
		t.Errorf("initKey = %q, want %q", got, want)
	}
	for id, ok := range map[string]bool{"cam-1_A.b": true, "": false, ".x": false, "a/b": false, "a b": false, "é": false} {
		if err := ValidCameraID(id); (err == nil) != ok {
			t.Errorf("validCameraID(%q) = %v", id, err)
		}
	}
}

func FuzzParseSidecar(f *testing.F) {
	hdr := encodeHeader(sidecarHeader{V: 1, Camera: "cam1", Start: 1, Init: "0123456789abcdef"})
	f.Add(append(hdr, encodeFragment(store.Fragment{Size: 10, Duration: time.Second})...))
	f.Add(hdr)
	f.Add([]byte("\n\n\n"))
	f.Add([]byte(`{"v":1}` + "\n" + `{"o":1e99}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		sc, err := parseSidecar(b)
		if err != nil {
			return
		}
		if sc.Valid > int64(len(b)) {
			t.Fatalf("valid prefix %d past %d bytes", sc.Valid, len(b))
		}
		for _, fr := range sc.Fragments {
			if !validFragment(fr) {
				t.Fatalf("invalid fragment kept: %+v", fr)
			}
		}
	})
}

func FuzzFragments(f *testing.F) {
	tr := &fmp4.Track{ID: 1}
	tr.Add(1024, 0, false, [][]byte{{1, 2, 3}})
	frag := fmp4.AppendFragment(nil, 1, []*fmp4.Track{tr})
	f.Add(frag, int64(0), int64(len(frag)))
	f.Add(append(frag, frag...), int64(len(frag)), int64(len(frag)))
	f.Add([]byte{0, 0, 0, 1, 'm', 'o', 'o', 'f', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, int64(0), int64(16))
	f.Add([]byte{0, 0, 0, 0, 'm', 'o', 'o', 'f'}, int64(-5), int64(1<<62))
	f.Fuzz(func(t *testing.T, data []byte, off, size int64) {
		r := bytes.NewReader(data)
		end := int64(len(data))
		_ = fmp4.CheckFragment(r, off, size)
		offs, sizes := fmp4.ScanFragments(r, end)
		var table []store.Fragment
		for i := range offs {
			if fmp4.CheckFragment(r, offs[i], sizes[i]) != nil {
				t.Fatalf("scanned fragment %d at %d+%d does not check", i, offs[i], sizes[i])
			}
			table = append(table, store.Fragment{Offset: offs[i], Size: sizes[i]})
		}
		got, last := completeFragments(r, end, table)
		if len(got) != len(table) || last > end {
			t.Fatalf("completeFragments kept %d of %d, end %d of %d", len(got), len(table), last, end)
		}
		completeFragments(r, end, []store.Fragment{{Offset: off, Size: size}})
	})
}
