package ingest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
	"github.com/pion/rtp"

	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/ingest"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestRTSPAudioCodecs publishes H.264 with Opus or G.711 audio and checks
// the hub tracks and audio units (G.711 arrives as 16-bit LPCM).
func TestRTSPAudioCodecs(t *testing.T) {
	t.Parallel()
	smp := testenv.Sample(t, "sample-h264.ts")
	cases := []struct {
		name   string
		format format.Format
		clock  int
		// encode makes the RTP packets of one 20 ms frame.
		encode func(f format.Format) func() ([]*rtp.Packet, error)
		check  func(c any) bool
		// size is the payload size of a hub unit for one frame.
		size int
	}{
		{"opus", &format.Opus{PayloadTyp: 111, ChannelCount: 2}, 48000,
			func(f format.Format) func() ([]*rtp.Packet, error) {
				e, _ := f.(*format.Opus).CreateEncoder()
				return func() ([]*rtp.Packet, error) {
					p, err := e.Encode([]byte{0xfc, 1, 2, 3})
					return []*rtp.Packet{p}, err
				}
			},
			func(c any) bool { o, ok := c.(*codecs.Opus); return ok && o.ChannelCount == 2 }, 4},
		{"pcmu", &format.G711{PayloadTyp: 0, MULaw: true, SampleRate: 8000, ChannelCount: 1}, 8000,
			func(f format.Format) func() ([]*rtp.Packet, error) {
				e, _ := f.(*format.G711).CreateEncoder()
				return func() ([]*rtp.Packet, error) { return e.Encode(make([]byte, 160)) }
			},
			func(c any) bool {
				l, ok := c.(*codecs.LPCM)
				return ok && l.BitDepth == 16 && l.SampleRate == 8000 && l.ChannelCount == 1 && !l.LittleEndian
			}, 320},
		{"pcma", &format.G711{PayloadTyp: 8, MULaw: false, SampleRate: 8000, ChannelCount: 1}, 8000,
			func(f format.Format) func() ([]*rtp.Packet, error) {
				e, _ := f.(*format.G711).CreateEncoder()
				return func() ([]*rtp.Packet, error) { return e.Encode(make([]byte, 160)) }
			},
			func(c any) bool { _, ok := c.(*codecs.LPCM); return ok }, 320},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := startServer(t, nil)
			u, _ := e.urls(camID, secret)
			vf := &format.H264{PayloadTyp: 96, PacketizationMode: 1}
			desc := &description.Session{Medias: []*description.Media{
				{Type: description.MediaTypeVideo, Formats: []format.Format{vf}},
				{Type: description.MediaTypeAudio, Formats: []format.Format{c.format}},
			}}
			tcp := gortsplib.ProtocolTCP
			cl := &gortsplib.Client{Protocol: &tcp}
			if err := cl.StartRecording(u, desc); err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			venc, _ := vf.CreateEncoder()
			aenc := c.encode(c.format)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go smp.Play(ctx, func(un *hub.Unit) error {
				if un.Track != 1 {
					return nil
				}
				pkts, err := venc.Encode(un.Payload)
				if err != nil {
					return err
				}
				for _, p := range pkts {
					p.Timestamp = uint32(un.PTS)
					if err := cl.WritePacketRTP(desc.Medias[0], p); err != nil {
						return err
					}
				}
				// two 20 ms audio frames per 40 ms video frame
				for k := int64(0); k < 2; k++ {
					apkts, err := aenc()
					if err != nil {
						return err
					}
					for _, p := range apkts {
						p.Timestamp = uint32(un.DTS*int64(c.clock)/90000 + k*int64(c.clock)/50)
						if err := cl.WritePacketRTP(desc.Medias[1], p); err != nil {
							return err
						}
					}
				}
				return nil
			})
			s := waitStream(t, e.hub, camID, 10*time.Second)
			if len(s.Tracks) != 2 || !c.check(s.Tracks[1].Codec) || s.Tracks[1].ClockRate != c.clock {
				t.Fatalf("audio track %#v at %d", s.Tracks[1].Codec, s.Tracks[1].ClockRate)
			}
			units := readUnits(t, s, 30, 10*time.Second)
			_, audio, _ := checkUnits(t, s, units)
			if audio < 10 {
				t.Fatalf("audio units = %d", audio)
			}
			for _, un := range units {
				if un.Track == 2 && (len(un.Payload) != 1 || len(un.Payload[0]) != c.size || !un.Key) {
					t.Fatalf("audio unit payload %d x %d bytes, key=%v", len(un.Payload), len(un.Payload[0]), un.Key)
				}
			}
			if info := e.ev.waitInfo(camID, func(i ingest.StreamInfo) bool { return i.Codec != "" }); info.Codec == "" {
				t.Fatal("no codec in StreamInfo")
			}
		})
	}
}

// TestUnrecordedTracksAreReported: a publisher offering a track camcloud
// does not record (G.722 audio here) is still recorded for its video, and
// the camera's stream info names the track left out, for its status.
func TestUnrecordedTracksAreReported(t *testing.T) {
	t.Parallel()
	smp := testenv.Sample(t, "sample-h264.ts")
	e := startServer(t, nil)
	u, _ := e.urls(camID, secret)
	h264c := smp.Tracks[0].Codec.(*codecs.H264)
	desc := &description.Session{Medias: []*description.Media{
		{Type: description.MediaTypeVideo, Formats: []format.Format{&format.H264{PayloadTyp: 96, PacketizationMode: 1, SPS: h264c.SPS, PPS: h264c.PPS}}},
		{Type: description.MediaTypeAudio, Formats: []format.Format{&format.G722{}}},
	}}
	tcp := gortsplib.ProtocolTCP
	cl := &gortsplib.Client{Protocol: &tcp}
	if err := cl.StartRecording(u, desc); err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	info := e.ev.waitInfo(camID, func(i ingest.StreamInfo) bool { return i.Unrecorded != "" })
	if !strings.Contains(info.Unrecorded, "G722") || info.Codec != "H264" {
		t.Fatalf("stream info %+v: want H264 recorded and G722 named as not recorded", info)
	}
}
