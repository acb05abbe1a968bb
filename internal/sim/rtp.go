package sim

import (
	"fmt"
	"math/rand/v2"

	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
	"github.com/pion/rtp"

	"github.com/camcloud/camcloud/internal/hub"
)

// rtpOut turns sample units into RTP packets for an RTSP description.
type rtpOut struct {
	desc   *description.Session
	medias []*description.Media                            // by track index
	encode []func(payload [][]byte) ([]*rtp.Packet, error) // by track index
	offset []uint32                                        // random RTP timestamp start
}

// newRTPOut builds the description and encoders of tracks (H.264, H.265, AAC).
func newRTPOut(tracks []hub.Track) (*rtpOut, error) {
	o := &rtpOut{desc: &description.Session{}}
	for _, t := range tracks {
		var m *description.Media
		var enc func([][]byte) ([]*rtp.Packet, error)
		switch c := t.Codec.(type) {
		case *codecs.H264:
			f := &format.H264{PayloadTyp: 96, SPS: c.SPS, PPS: c.PPS, PacketizationMode: 1}
			e, err := f.CreateEncoder()
			if err != nil {
				return nil, err
			}
			m = &description.Media{Type: description.MediaTypeVideo, Formats: []format.Format{f}}
			enc = e.Encode
		case *codecs.H265:
			f := &format.H265{PayloadTyp: 96, VPS: c.VPS, SPS: c.SPS, PPS: c.PPS}
			e, err := f.CreateEncoder()
			if err != nil {
				return nil, err
			}
			m = &description.Media{Type: description.MediaTypeVideo, Formats: []format.Format{f}}
			enc = e.Encode
		case *codecs.MPEG4Audio:
			cfg := c.Config
			f := &format.MPEG4Audio{PayloadTyp: 97, Config: &cfg, SizeLength: 13, IndexLength: 3, IndexDeltaLength: 3}
			e, err := f.CreateEncoder()
			if err != nil {
				return nil, err
			}
			m = &description.Media{Type: description.MediaTypeAudio, Formats: []format.Format{f}}
			enc = e.Encode
		default:
			return nil, fmt.Errorf("sim: track %d: unsupported codec %T", t.ID, t.Codec)
		}
		o.desc.Medias = append(o.desc.Medias, m)
		o.medias = append(o.medias, m)
		o.encode = append(o.encode, enc)
		o.offset = append(o.offset, rand.Uint32())
	}
	return o, nil
}

// packets returns the media and the RTP packets of u.
func (o *rtpOut) packets(u *hub.Unit) (*description.Media, []*rtp.Packet, error) {
	i := u.Track - 1
	if i < 0 || i >= len(o.medias) {
		return nil, nil, fmt.Errorf("sim: unit of unknown track %d", u.Track)
	}
	pkts, err := o.encode[i](u.Payload)
	if err != nil {
		return nil, nil, err
	}
	ts := o.offset[i] + uint32(u.PTS)
	for _, p := range pkts {
		p.Timestamp += ts
	}
	return o.medias[i], pkts, nil
}
