package main

import (
	"strings"
	"testing"
	"time"
)

// TestParseVOD reads a playlist as camcloud's playback writes it (byte
// ranges inside stored objects, a new init section after a discontinuity).
func TestParseVOD(t *testing.T) {
	pl := `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:5
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="obj/cam/1/init-a.mp4?token=x"
#EXT-X-PROGRAM-DATE-TIME:2026-12-01T10:00:00.000Z
#EXTINF:4.000,
#EXT-X-BYTERANGE:1000@0
obj/cam/1/seg-1.m4s?token=x
#EXT-X-PROGRAM-DATE-TIME:2026-12-01T10:00:04.000Z
#EXTINF:4.500,
#EXT-X-BYTERANGE:2000
obj/cam/1/seg-1.m4s?token=x
#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="obj/cam/1/init-b.mp4?token=x"
#EXTINF:2.000,
obj/cam/1/seg-2.m4s?token=x
#EXT-X-ENDLIST
`
	segs, err := parseVOD(strings.NewReader(pl))
	if err != nil {
		t.Fatal(err)
	}
	want := []vodSegment{
		{init: "obj/cam/1/init-a.mp4?token=x", uri: "obj/cam/1/seg-1.m4s?token=x", dur: 4 * time.Second, off: 0, len: 1000},
		{init: "obj/cam/1/init-a.mp4?token=x", uri: "obj/cam/1/seg-1.m4s?token=x", dur: 4500 * time.Millisecond, off: 1000, len: 2000},
		{init: "obj/cam/1/init-b.mp4?token=x", uri: "obj/cam/1/seg-2.m4s?token=x", dur: 2 * time.Second, off: 0, len: -1},
	}
	if len(segs) != len(want) {
		t.Fatalf("%d segments, want %d: %+v", len(segs), len(want), segs)
	}
	for i := range want {
		if segs[i] != want[i] {
			t.Errorf("segment %d: %+v, want %+v", i, segs[i], want[i])
		}
	}
	for _, bad := range []string{"#EXTM3U\n#EXT-X-ENDLIST\n", "#EXTINF:x,\nseg\n", "#EXT-X-BYTERANGE:-5@0\nseg\n"} {
		if _, err := parseVOD(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
