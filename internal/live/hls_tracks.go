package live

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/bluenviron/gohlslib/v2"
	hlscodecs "github.com/bluenviron/gohlslib/v2/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/camcloud/camcloud/internal/hub"
)

// hlsTrack binds one hub track to the muxer track it feeds.
type hlsTrack struct {
	track *gohlslib.Track
	write func(m *gohlslib.Muxer, u *hub.Unit) error
}

// hlsTracks maps the stream's tracks to muxer tracks: the first H.264 or
// H.265 video track and the first AAC or Opus audio track. Other tracks
// (G.711/LPCM audio, which HLS fMP4 players do not take) are named in
// skipped. Without a video track there is nothing to segment on.
func hlsTracks(ts []hub.Track) (byID map[int]*hlsTrack, list []*gohlslib.Track, skipped []string, err error) {
	byID = map[int]*hlsTrack{}
	var video, audio bool
	for _, t := range ts {
		var ht *hlsTrack
		switch c := t.Codec.(type) {
		case *codecs.H264:
			if video {
				break
			}
			gt := &gohlslib.Track{Codec: &hlscodecs.H264{SPS: bytes.Clone(c.SPS), PPS: bytes.Clone(c.PPS)}, ClockRate: t.ClockRate}
			ht = &hlsTrack{track: gt, write: func(m *gohlslib.Muxer, u *hub.Unit) error {
				return m.WriteH264(gt, u.NTP, u.PTS, nonEmpty(u.Payload))
			}}
			video = true
		case *codecs.H265:
			if video {
				break
			}
			gt := &gohlslib.Track{Codec: &hlscodecs.H265{VPS: bytes.Clone(c.VPS), SPS: bytes.Clone(c.SPS), PPS: bytes.Clone(c.PPS)}, ClockRate: t.ClockRate}
			ht = &hlsTrack{track: gt, write: func(m *gohlslib.Muxer, u *hub.Unit) error {
				return m.WriteH265(gt, u.NTP, u.PTS, nonEmpty(u.Payload))
			}}
			video = true
		case *codecs.MPEG4Audio:
			if audio || c.Config.SampleRate <= 0 || t.ClockRate != c.Config.SampleRate {
				break
			}
			gt := &gohlslib.Track{Codec: &hlscodecs.MPEG4Audio{Config: c.Config}, ClockRate: t.ClockRate}
			ht = &hlsTrack{track: gt, write: func(m *gohlslib.Muxer, u *hub.Unit) error {
				return m.WriteMPEG4Audio(gt, u.NTP, u.PTS, nonEmpty(u.Payload))
			}}
			audio = true
		case *codecs.Opus:
			if audio || t.ClockRate != 48000 {
				break
			}
			gt := &gohlslib.Track{Codec: &hlscodecs.Opus{ChannelCount: c.ChannelCount}, ClockRate: 48000}
			ht = &hlsTrack{track: gt, write: func(m *gohlslib.Muxer, u *hub.Unit) error {
				return m.WriteOpus(gt, u.NTP, u.PTS, nonEmpty(u.Payload))
			}}
			audio = true
		}
		if ht == nil {
			skipped = append(skipped, fmt.Sprintf("track %d (%T)", t.ID, t.Codec))
			continue
		}
		byID[t.ID] = ht
		list = append(list, ht.track)
	}
	if !video {
		return nil, nil, skipped, errors.New("the stream has no H.264 or H.265 video track")
	}
	// Video first: it leads segmentation.
	for i, t := range list {
		if t.Codec.IsVideo() && i != 0 {
			list[0], list[i] = list[i], list[0]
		}
	}
	return byID, list, skipped, nil
}

// nonEmpty drops empty NAL units or frames, which the muxer would index out
// of range on. It returns p itself when nothing is empty (the common case).
func nonEmpty(p [][]byte) [][]byte {
	for _, b := range p {
		if len(b) == 0 {
			out := make([][]byte, 0, len(p))
			for _, b := range p {
				if len(b) != 0 {
					out = append(out, b)
				}
			}
			return out
		}
	}
	return p
}
