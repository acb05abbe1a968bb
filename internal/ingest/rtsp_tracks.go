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
	// skipped, on the first track of a selection, names the offered
	// formats that are not recorded, so that attaching can say so.
	skipped []string
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
	case *format.MPEG4AudioLATM:
		// GStreamer's rtspclientsink and many cameras send AAC as LATM;
		// it is recorded as plain AAC. Only an out-of-band configuration
		// (cpresent=0) says what the stream is before media arrives.
		if asc := latmConfig(f); asc != nil && !f.CPresent {
			return trackSpec{codec: &codecs.MPEG4Audio{Config: *asc}, clockRate: f.ClockRate(), name: "AAC"}, true
		}
		return trackSpec{}, false
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

// latmConfig is the AAC configuration of the first layer of a LATM
// format's out-of-band StreamMuxConfig, or nil.
func latmConfig(f *format.MPEG4AudioLATM) *mpeg4audio.AudioSpecificConfig {
	c := f.StreamMuxConfig
	if c == nil || len(c.Programs) == 0 || len(c.Programs[0].Layers) == 0 {
		return nil
	}
	asc := c.Programs[0].Layers[0].AudioSpecificConfig
	if asc == nil || asc.SampleRate <= 0 {
		return nil
	}
	return asc
}

// latmMuxConfig returns the StreamMuxConfig to read a LATM stream's
// AudioMuxElements with. GStreamer's rtpmp4apay puts the backward-compatible
// SBR signal (sync extension 0x2b7) into the AudioSpecificConfig of its
// cpresent=0 config ("40002410adca00" for 44.1 kHz mono AAC-LC); mediacommon
// reads the ASC without it and so takes the extension's bits for the
// layer's frameLengthType (2, which no payload reader supports) and what
// follows. RTP LATM senders use frameLengthType 0 (lengths as runs of
// bytes, RFC 6416), so a config read with any other type, one subframe,
// program and layer is read as type 0 without other data or checksum.
func latmMuxConfig(c *mpeg4audio.StreamMuxConfig) *mpeg4audio.StreamMuxConfig {
	if c == nil || len(c.Programs) != 1 || len(c.Programs[0].Layers) != 1 || c.NumSubFrames != 0 {
		return c
	}
	l := c.Programs[0].Layers[0]
	if l.FrameLengthType == 0 && !c.OtherDataPresent && !c.CRCCheckPresent {
		return c
	}
	fixed := *c
	layer := *l
	layer.FrameLengthType, layer.LatmBufferFullness = 0, 0xff
	fixed.Programs = []*mpeg4audio.StreamMuxConfigProgram{{Layers: []*mpeg4audio.StreamMuxConfigLayer{&layer}}}
	fixed.OtherDataPresent, fixed.OtherDataLenBits, fixed.CRCCheckPresent = false, 0, false
	return &fixed
}

// selectRTSPTracks picks the first supported video format and the first
// supported audio format. Without a supported video format it returns an
// error naming what was offered.
func selectRTSPTracks(desc *description.Session) ([]rtspTrack, error) {
	var video, audio *rtspTrack
	var offered, skipped []string
	for _, m := range desc.Medias {
		if m.IsBackChannel {
			continue
		}
		for _, f := range m.Formats {
			offered = append(offered, formatName(f))
			spec, ok := specForRTSP(f)
			t := &rtspTrack{media: m, format: f, spec: spec}
			switch {
			case !ok:
				skipped = append(skipped, formatName(f))
			case spec.codec.IsVideo() && video == nil:
				video = t
			case !spec.codec.IsVideo() && audio == nil:
				audio = t
			default:
				skipped = append(skipped, formatName(f)+" (only one track of a kind is recorded)")
			}
		}
	}
	if video == nil {
		return nil, fmt.Errorf("no supported video track (H264, H265) among offered formats [%s]", strings.Join(offered, ", "))
	}
	out := []rtspTrack{*video}
	out[0].skipped = skipped
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
	if len(tracks) > 0 && len(tracks[0].skipped) > 0 {
		p.cfg.log.Warn("tracks offered by the camera are not recorded", "camera", p.cfg.cameraID,
			"formats", strings.Join(tracks[0].skipped, ", "))
	}
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
	case *format.MPEG4AudioLATM:
		dec, err := f.CreateDecoder()
		if err != nil {
			return nil, err
		}
		conf := latmMuxConfig(f.StreamMuxConfig)
		auTicks := int64(mpeg4audio.SamplesPerAccessUnit) * int64(f.ClockRate()) / int64(latmConfig(f).SampleRate)
		return func(pkt *rtp.Packet) {
			pts, ok := src.PacketPTS(m, pkt)
			if !ok {
				return
			}
			buf, err := dec.Decode(pkt)
			if err != nil {
				return
			}
			ame := mpeg4audio.AudioMuxElement{MuxConfigPresent: f.CPresent, StreamMuxConfig: conf}
			if ame.Unmarshal(buf) != nil {
				return
			}
			ntp := ntpOf(pkt)
			for j, sub := range ame.Payloads {
				if len(sub) > 0 && len(sub[0]) > 0 {
					p.writeAudio(i, pts+int64(j)*auTicks, sub[0][0], ntp)
				}
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
