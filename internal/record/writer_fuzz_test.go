package record

import (
	"encoding/binary"
	"testing"

	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/testenv"
)

// FuzzWriter feeds arbitrary unit sequences (tracks, flags, timestamps,
// NAL units) to the segmenter: it must never panic, whatever a publisher
// sends.
func FuzzWriter(f *testing.F) {
	smp := testenv.Sample(f, "sample-h264.ts")
	f.Add([]byte{1, 1, 0, 10, 0, 0x65, 0xaa, 0xbb, 2, 1, 0, 20, 0, 0x21, 1, 0, 0xff, 0xff, 0, 0x41})
	f.Add([]byte{1, 1, 0x80, 0, 0, 0x67, 0x68, 0x65, 1, 0, 0x7f, 0xff, 9, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		e := newEnv(t, nil)
		s := hub.New().Publish("cam1", smp.Tracks)
		w := newWriter(e.rec, s)
		var dts [3]int64
		// Each record: track, key, DTS step (int16), PTS offset (int8), then a
		// NAL unit made of the next 1-4 bytes; a real unit of the sample now
		// and then so that segments do open.
		for i := 0; len(data) >= 6; i++ {
			track := int(data[0]%3) + 1
			step := int64(int16(binary.BigEndian.Uint16(data[2:4])))
			n := int(data[5]%4) + 1
			if len(data) < 6+n {
				break
			}
			dts[track-1] += step * 100
			u := &hub.Unit{Track: track, Key: data[1]&1 == 1, DTS: dts[track-1],
				PTS: dts[track-1] + int64(int8(data[4])), Payload: [][]byte{data[6 : 6+n]}}
			if data[1]&2 != 0 && i < len(smp.Units) {
				real := *smp.Units[i]
				real.DTS, real.PTS = u.DTS, u.PTS
				u = &real
			}
			s.Write(u) // the stream follows the parameter sets (Unit.Codec)
			w.handle(u)
			data = data[6+n:]
		}
		w.finishSegment(0, false)
		e.rec.spool.Flush() // the commit is done before the spool is removed
	})
}
