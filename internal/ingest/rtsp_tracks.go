package ingest

import (
	"fmt"
	"strings"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/g711"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
	"github.com/pion/rtp"
)

// rtspTrack binds one announced (or described) RTSP format to a track.
type rtspTrack struct {
	media  *description.Media
	format format.Format
	spec   trackSpec
}

// rtpSession is what gortsplib's ServerSession and Client both offer.
type rtpSession interface {
	OnPacketRTP(*description.Media, format.Format, gortsplib.OnPacketRTPFunc)
	PacketPTS(*description.Media, *rtp.Packet) (int64, bool)
	PacketNTP(*description.Media, *rtp.Packet) (time.Time, bool)
}

// specForRTSP maps a format to a track, or returns ok=false when unsupported.
// G.711 is widened to 16-bit big-endian LPCM, which fMP4 can carry.
func specForRTSP(f format.Format) (trackSpec, bool) {
	switch f := f.(type) {
	case *format.H264:
		return trackSpec{codec: &codecs.H264{SPS: f.SPS, PPS: f.PPS}, clockRate: 90000, name: "H264"}, true
	case *format.H265:
		return trackSpec{codec: &codecs.H265{VPS: f.VPS, SPS: f.SPS, PPS: f.PPS}, clockRate: 90000, name: "H265"}, true
	case *format.MPEG4Audio:
		if f.Config == nil {
			return trackSpec{}, false
		}
		return trackSpec{codec: &codecs.MPEG4Audio{Config: *f.Config}, clockRate: f.ClockRate(), name: "AAC"}, true
	case *format.Opus:
		return trackSpec{codec: &codecs.Opus{ChannelCount: f.ChannelCount}, clockRate: 48000, name: "Opus"}, true
	case *format.G711:
		if f.SampleRate <= 0 || f.ChannelCount <= 0 {
			return trackSpec{}, false
		}
		return trackSpec{codec: &codecs.LPCM{BitDepth: 16, SampleRate: f.SampleRate, ChannelCount: f.ChannelCount},
			clockRate: f.SampleRate, name: "G711"}, true
	}
	return trackSpec{}, false
}

// selectRTSPTracks picks the first supported video format and the first
// supported audio format. Without a supported video format it returns an
// error naming what was offered.
func selectRTSPTracks(desc *description.Session) ([]rtspTrack, error) {
	var video, audio *rtspTrack
	var offered []string
	for _, m := range desc.Medias {
		if m.IsBackChannel {
			continue
		}
		for _, f := range m.Formats {
			offered = append(offered, formatName(f))
			spec, ok := specForRTSP(f)
			if !ok {
				continue
			}
			t := &rtspTrack{media: m, format: f, spec: spec}
			if spec.codec.IsVideo() {
				if video == nil {
					video = t
				}
			} else if audio == nil {
				audio = t
			}
		}
	}
	if video == nil {
		return nil, fmt.Errorf("no supported video track (H264, H265) among offered formats [%s]", strings.Join(offered, ", "))
	}
	out := []rtspTrack{*video}
	if audio != nil {
		out = append(out, *audio)
	}
	return out, nil
}

// rtspSpecs returns the track specs of tracks, in order.
func rtspSpecs(tracks []rtspTrack) []trackSpec {
	specs := make([]trackSpec, len(tracks))
	for i, t := range tracks {
		specs[i] = t.spec
	}
	return specs
}

// attachRTSP decodes the RTP packets of tracks into the publication.
func attachRTSP(src rtpSession, p *publication, tracks []rtspTrack) error {
	for i, t := range tracks {
		cb, err := rtpHandler(src, p, i, t)
		if err != nil {
			return err
		}
		src.OnPacketRTP(t.media, t.format, cb)
	}
	return nil
}

// rtpHandler builds the packet callback of track i.
func rtpHandler(src rtpSession, p *publication, i int, t rtspTrack) (gortsplib.OnPacketRTPFunc, error) {
	m := t.media
	ntpOf := func(pkt *rtp.Packet) time.Time { return packetNTP(src, m, pkt) }
	// video hands the access units an H.264 or H.265 depacketiser yields
	// to the publication.
	video := func(dec interface {
		Decode(*rtp.Packet) ([][]byte, error)
	}) gortsplib.OnPacketRTPFunc {
		return func(pkt *rtp.Packet) {
			pts, ok := src.PacketPTS(m, pkt)
			if !ok {
				return
			}
			if au, err := dec.Decode(pkt); err == nil {
				p.writeVideo(pts, 0, false, au, ntpOf(pkt))
			}
		}
	}
	switch f := t.format.(type) {
	case *format.H264:
		dec, err := f.CreateDecoder()
		if err != nil {
			return nil, err
		}
		return video(dec), nil
	case *format.H265:
		dec, err := f.CreateDecoder()
		if err != nil {
			return nil, err
		}
		return video(dec), nil
	case *format.MPEG4Audio:
		dec, err := f.CreateDecoder()
		if err != nil {
			return nil, err
		}
		return func(pkt *rtp.Packet) {
			pts, ok := src.PacketPTS(m, pkt)
			if !ok {
				return
			}
			aus, err := dec.Decode(pkt)
			if err != nil {
				return
			}
			ntp := ntpOf(pkt)
			for j, au := range aus {
				p.writeAudio(i, pts+int64(j)*mpeg4audio.SamplesPerAccessUnit, au, ntp)
			}
		}, nil
	case *format.Opus:
		dec, err := f.CreateDecoder()
		if err != nil {
			return nil, err
		}
		return func(pkt *rtp.Packet) {
			pts, ok := src.PacketPTS(m, pkt)
			if !ok {
				return
			}
			if frame, err := dec.Decode(pkt); err == nil {
				p.writeAudio(i, pts, frame, ntpOf(pkt))
			}
		}, nil
	case *format.G711:
		dec, err := f.CreateDecoder()
		if err != nil {
			return nil, err
		}
		mulaw := f.MULaw
		return func(pkt *rtp.Packet) {
			pts, ok := src.PacketPTS(m, pkt)
			if !ok {
				return
			}
			samples, err := dec.Decode(pkt)
			if err != nil {
				return
			}
			p.writeAudio(i, pts, g711ToLPCM(mulaw, samples), ntpOf(pkt))
		}, nil
	}
	return nil, fmt.Errorf("unsupported format %s", formatName(t.format))
}

// packetNTP is the wall-clock time of pkt from the sender's reports, or
// now when there has been none yet.
func packetNTP(src rtpSession, m *description.Media, pkt *rtp.Packet) time.Time {
	if ntp, ok := src.PacketNTP(m, pkt); ok {
		return ntp
	}
	return time.Now()
}

// g711ToLPCM widens G.711 samples to 16-bit big-endian LPCM.
func g711ToLPCM(mulaw bool, samples []byte) []byte {
	if mulaw {
		var out g711.Mulaw
		out.Unmarshal(samples)
		return out
	}
	var out g711.Alaw
	out.Unmarshal(samples)
	return out
}

// formatName names an RTSP format for logs, e.g. "H264" or "MJPEG".
func formatName(f format.Format) string {
	return strings.TrimPrefix(fmt.Sprintf("%T", f), "*format.")
}
