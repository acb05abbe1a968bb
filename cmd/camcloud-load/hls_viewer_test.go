package main

import (
	"net/url"
	"strings"
	"testing"
)

// TestParseMedia reads an LL-HLS media playlist as the viewer follows it:
// segments with their parts, the parts of the segment in progress, the
// preload hint and the next blocking reload's directives.
func TestParseMedia(t *testing.T) {
	pl, err := parseMedia(strings.NewReader(`#EXTM3U
#EXT-X-VERSION:9
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.6
#EXT-X-MEDIA-SEQUENCE:7
#EXT-X-MAP:URI="a_init.mp4?token=x"
#EXT-X-PART:DURATION=0.2,URI="a_part1.mp4?token=x",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.2,URI="a_part2.mp4?token=x"
#EXTINF:1.0,
a_seg7.mp4?token=x
#EXT-X-PART:DURATION=0.2,URI="a_part3.mp4?token=x",INDEPENDENT=YES
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="a_part4.mp4?token=x"
`))
	if err != nil {
		t.Fatal(err)
	}
	if pl.seq != 7 || len(pl.segments) != 1 || len(pl.parts[0]) != 2 || pl.initURI != "a_init.mp4?token=x" {
		t.Fatalf("playlist read as %+v", pl)
	}
	if len(pl.tail) != 1 || pl.tail[0] != "a_part3.mp4?token=x" || pl.hint != "a_part4.mp4?token=x" {
		t.Fatalf("live edge read as tail %v hint %q", pl.tail, pl.hint)
	}
	base, _ := url.Parse("http://h/live/v1/c/s.m3u8?token=x")
	got := withQuery(base, pl.seq+len(pl.segments), len(pl.tail))
	if got != "http://h/live/v1/c/s.m3u8?_HLS_msn=8&_HLS_part=1&token=x" {
		t.Fatalf("blocking reload URL %s", got)
	}
}

// TestKeyStart tells the first packet of a key frame from others.
func TestKeyStart(t *testing.T) {
	for _, c := range []struct {
		p    []byte
		h265 bool
		want bool
	}{
		{[]byte{0x67, 0}, false, true},             // SPS
		{[]byte{0x78, 0, 2, 0x67, 0}, false, true}, // STAP-A starting with SPS
		{[]byte{0x7c, 0x85, 0}, false, true},       // FU-A start of an IDR
		{[]byte{0x7c, 0x05, 0}, false, false},      // FU-A middle of an IDR
		{[]byte{0x41, 0}, false, false},            // non-IDR slice
		{[]byte{0x40, 0x01, 0}, true, true},        // VPS
		{[]byte{0x62, 0x01, 0x93, 0}, true, true},  // FU start of IDR_W_RADL
		{[]byte{0x02, 0x01, 0}, true, false},       // TRAIL_R
	} {
		if got := keyStart(c.p, c.h265); got != c.want {
			t.Errorf("keyStart(% x, h265=%v) = %v", c.p, c.h265, got)
		}
	}
}
