package ingest

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
)

// TestLATMConfigFromGStreamer reads the config GStreamer's rtpmp4apay
// announces for 44.1 kHz mono AAC-LC and a frame of its payload. It pins
// the mediacommon behaviour latmMuxConfig works around: when mediacommon
// reads this config right, the test fails and the workaround can go.
func TestLATMConfigFromGStreamer(t *testing.T) {
	raw, _ := hex.DecodeString("40002410adca00")
	var conf mpeg4audio.StreamMuxConfig
	if err := conf.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	l := conf.Programs[0].Layers[0]
	if l.FrameLengthType == 0 {
		t.Fatal("mediacommon now reads GStreamer's LATM config: drop latmMuxConfig")
	}
	if asc := l.AudioSpecificConfig; asc.Type != mpeg4audio.ObjectTypeAACLC || asc.SampleRate != 44100 || asc.ChannelConfig != 1 {
		t.Fatalf("config read as %+v", asc)
	}
	fixed := latmMuxConfig(&conf)
	frame := bytes.Repeat([]byte{0xa5}, 300) // a length of 255+45 bytes
	ame := mpeg4audio.AudioMuxElement{StreamMuxConfig: fixed}
	if err := ame.Unmarshal(append([]byte{255, 45}, frame...)); err != nil {
		t.Fatalf("payload with the corrected config: %v", err)
	}
	if got := ame.Payloads[0][0][0]; !bytes.Equal(got, frame) {
		t.Fatalf("payload of %d bytes, want the %d sent", len(got), len(frame))
	}
	if conf.Programs[0].Layers[0].FrameLengthType == 0 {
		t.Fatal("latmMuxConfig changed the format's own config")
	}
}
