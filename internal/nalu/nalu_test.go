package nalu

import (
	"bytes"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
)

func TestParams(t *testing.T) {
	sps, pps, idr := []byte{0x67, 1}, []byte{0x68, 2}, []byte{0x65, 3}
	cases := []struct {
		name         string
		au           [][]byte
		wantS, wantP []byte
	}{
		{"both", [][]byte{sps, pps, idr}, sps, pps},
		{"none", [][]byte{idr}, nil, nil},
		{"empty nal skipped", [][]byte{{}, sps}, sps, nil},
	}
	for _, c := range cases {
		s, p := H264Params(c.au)
		if !bytes.Equal(s, c.wantS) || !bytes.Equal(p, c.wantP) {
			t.Errorf("%s: got %x %x", c.name, s, p)
		}
	}
	vps, sps5, pps5 := []byte{32 << 1, 1}, []byte{33 << 1, 1}, []byte{34 << 1, 1}
	v, s, p := H265Params([][]byte{vps, sps5, pps5, {19 << 1, 1}})
	if !bytes.Equal(v, vps) || !bytes.Equal(s, sps5) || !bytes.Equal(p, pps5) {
		t.Errorf("h265: got %x %x %x", v, s, p)
	}
	if v, s, p := H265Params([][]byte{{1 << 1}}); v != nil || s != nil || p != nil {
		t.Error("h265 params found in a slice NAL")
	}
}

func TestRandomAccess(t *testing.T) {
	h264c, h265c := &codecs.H264{}, &codecs.H265{}
	cases := []struct {
		name string
		c    codecs.Codec
		au   [][]byte
		want bool
	}{
		{"h264 idr", h264c, [][]byte{{0x67, 1}, {0x68, 2}, {0x65, 3}}, true},
		{"h264 slice", h264c, [][]byte{{0x41, 1}}, false},
		{"h264 empty nal skipped", h264c, [][]byte{{}, {0x65, 3}}, true},
		{"h264 empty", h264c, [][]byte{{}}, false},
		{"h265 idr", h265c, [][]byte{{19 << 1, 1}}, true},
		{"h265 cra", h265c, [][]byte{{21 << 1, 1}}, true},
		{"h265 trail", h265c, [][]byte{{1 << 1, 1}}, false},
		{"h265 empty nal skipped", h265c, [][]byte{{}, {20 << 1, 1}}, true},
		{"audio", &codecs.MPEG4Audio{}, [][]byte{{0x21}}, true},
	}
	for _, c := range cases {
		if got := RandomAccess(c.c, c.au); got != c.want {
			t.Errorf("%s: got %v", c.name, got)
		}
	}
}
