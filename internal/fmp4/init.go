package fmp4

import (
	"bytes"
	"fmt"

	"github.com/bluenviron/gohlslib/v2/pkg/codecparams"
	hlscodecs "github.com/bluenviron/gohlslib/v2/pkg/codecs"
	mcfmp4 "github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
)

// InitTrack is one track of an init segment (ftyp+moov).
type InitTrack struct {
	ID        int
	TimeScale uint32
	Codec     codecs.Codec
}

// MarshalInit writes the init segment of tracks, with mediacommon: it is
// written once per codec configuration, not per frame.
func MarshalInit(tracks []InitTrack) ([]byte, error) {
	init := mcfmp4.Init{}
	for _, t := range tracks {
		init.Tracks = append(init.Tracks, &mcfmp4.InitTrack{ID: t.ID, TimeScale: t.TimeScale, Codec: t.Codec})
	}
	var buf seekablebuffer.Buffer
	if err := init.Marshal(&buf); err != nil {
		return nil, fmt.Errorf("building init segment: %w", err)
	}
	return buf.Bytes(), nil
}

// ParseInit reads the tracks of an init segment.
func ParseInit(b []byte) ([]InitTrack, error) {
	var init mcfmp4.Init
	if err := init.Unmarshal(bytes.NewReader(b)); err != nil {
		return nil, err
	}
	out := make([]InitTrack, 0, len(init.Tracks))
	for _, t := range init.Tracks {
		out = append(out, InitTrack{ID: t.ID, TimeScale: t.TimeScale, Codec: t.Codec})
	}
	return out, nil
}

// CodecString is the RFC 6381 "codecs" parameter of one track of an init
// segment, e.g. "avc1.4d401f" or "mp4a.40.2"; empty when there is none.
// The recorder names segments' codecs with it, and backfill names those
// of uploaded segments the same way.
func CodecString(c codecs.Codec) string {
	switch c := c.(type) {
	case *codecs.H264:
		return codecparams.Marshal(&hlscodecs.H264{SPS: c.SPS, PPS: c.PPS})
	case *codecs.H265:
		return codecparams.Marshal(&hlscodecs.H265{VPS: c.VPS, SPS: c.SPS, PPS: c.PPS})
	case *codecs.MPEG4Audio:
		return codecparams.Marshal(&hlscodecs.MPEG4Audio{Config: c.Config})
	case *codecs.Opus:
		return "opus"
	case *codecs.LPCM:
		return "ipcm"
	}
	return ""
}
