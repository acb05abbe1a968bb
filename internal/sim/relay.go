package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"

	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/camcloud/camcloud/internal/coalesce"
	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/rtppack"
	"github.com/camcloud/camcloud/internal/rtsppub"
)

// relayBuffer is the hub reader's room of a relay, in units (a few
// seconds): a relay that falls further behind its uplink is dropped by the
// hub and starts again at the next keyframe, so that live stays live.
const relayBuffer = 256

// Relay publishes the units of a hub stream to rawURL over RTSP
// (ANNOUNCE/RECORD interleaved over TCP or TLS, package rtsppub, writes
// gathered by package coalesce), from its next video keyframe on, until
// the stream ends (nil), ctx ends, the connection fails or the reader
// falls behind (the error). The edge agent relays its cameras to the
// cloud's normal ingest with it; sent units are counted in st (may be
// nil). The relays of a process share bufs (coalesce.NewBuffers) to gather
// writes. A unit that cannot be packetised (an empty NAL unit, an
// oversized audio frame) is skipped, not a reason to drop live.
func Relay(ctx context.Context, rawURL string, s *hub.Stream, st *Stats, bufs *coalesce.Buffers) error {
	if bufs == nil {
		bufs = coalesce.NewBuffers(0)
	}
	tracks, offsets, err := relayTracks(s.Tracks)
	if err != nil {
		return err
	}
	c, err := rtsppub.Start(ctx, rawURL, tracks, rtsppub.Config{Timeout: ioTimeout,
		Wrap: func(nc net.Conn) net.Conn { return coalesce.Wrap(nc, 0, bufs) }})
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	r, err := s.NewReader(relayBuffer)
	if err != nil {
		return nil // the stream ended meanwhile
	}
	defer r.Close()
	if st == nil {
		st = &Stats{}
	}
	defer started(st)()
	video := func(u *hub.Unit) bool { return s.Tracks[u.Track-1].IsVideo() }
	keyed := false
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.Done():
			return c.Wait()
		case u, ok := <-r.C():
			if !ok {
				if err := r.Err(); err != hub.ErrClosed {
					return err
				}
				return nil
			}
			if !keyed && !(video(u) && u.Key) {
				continue
			}
			keyed = true
			i := u.Track - 1
			if i < 0 || i >= len(tracks) {
				return fmt.Errorf("sim: unit of unknown track %d", u.Track)
			}
			switch err := c.Write(i, u.Payload, offsets[i]+uint32(u.PTS), u.NTP, u.PTS == u.DTS); {
			case errors.Is(err, rtsppub.ErrBadUnit): // skipped; the burst's other units still go
			case err != nil:
				return err
			default:
				st.sent(u, video(u))
			}
			if len(r.C()) == 0 {
				// The burst (a batch of the camera's reads, see
				// hub.Stream.Gather) has been written: it goes now,
				// not when the gathering window ends.
				if err := c.Flush(); err != nil {
					return err
				}
			}
		}
	}
}

// relayMaxPacket is the largest RTP packet a relay sends: it fits a
// 1500-byte Ethernet frame with IPv4 and TCP headers and the interleaved
// frame's 4 bytes.
const relayMaxPacket = 1440

// relayTracks describes the tracks (H.264, H.265, AAC) for announcing and
// gives each a packetiser with a random SSRC, first sequence number and
// RTP timestamp offset (offsets, by track index).
func relayTracks(tracks []hub.Track) ([]rtsppub.Track, []uint32, error) {
	out := make([]rtsppub.Track, 0, len(tracks))
	offsets := make([]uint32, 0, len(tracks))
	for _, t := range tracks {
		ssrc, seq := rand.Uint32(), uint16(rand.Uint32())
		var f format.Format
		var p rtppack.Packetizer
		mt := description.MediaTypeVideo
		switch c := t.Codec.(type) {
		case *codecs.H264:
			f = &format.H264{PayloadTyp: 96, SPS: c.SPS, PPS: c.PPS, PacketizationMode: 1}
			p = rtppack.NewH264(96, ssrc, seq, relayMaxPacket)
		case *codecs.H265:
			f = &format.H265{PayloadTyp: 96, VPS: c.VPS, SPS: c.SPS, PPS: c.PPS}
			p = rtppack.NewH265(96, ssrc, seq, relayMaxPacket)
		case *codecs.MPEG4Audio:
			cfg := c.Config
			f = &format.MPEG4Audio{PayloadTyp: 97, Config: &cfg, SizeLength: 13, IndexLength: 3, IndexDeltaLength: 3}
			p = rtppack.NewMPEG4Audio(97, ssrc, seq, relayMaxPacket)
			mt = description.MediaTypeAudio
		default:
			return nil, nil, fmt.Errorf("sim: track %d: unsupported codec %T", t.ID, t.Codec)
		}
		out = append(out, rtsppub.Track{Media: &description.Media{Type: mt, Formats: []format.Format{f}}, ClockRate: f.ClockRate(), SSRC: ssrc, Pack: p})
		offsets = append(offsets, rand.Uint32())
	}
	return out, offsets, nil
}
