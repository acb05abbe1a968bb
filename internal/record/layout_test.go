package record

import (
	"bytes"
	"encoding/binary"
	"os/exec"
	"strings"
	"testing"

	"github.com/camcloud/camcloud/internal/fmp4"
	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/testenv"
)

// decodeErrors decodes init+segment with ffmpeg and returns what it
// complained about: a sample whose offset in mdat is wrong decodes as
// garbage, which H.264 and AAC decoders report.
func decodeErrors(t testing.TB, init, seg []byte) string {
	t.Helper()
	ffmpeg := testenv.Tool(t, "ffmpeg")
	out, err := exec.Command(ffmpeg, "-v", "error", "-i", mp4File(t, init, seg), "-f", "null", "-").CombinedOutput()
	if err != nil {
		return strings.TrimSpace(string(out)) + " (" + err.Error() + ")"
	}
	return strings.TrimSpace(string(out))
}

// TestLeadPayloadWrittenAhead: the lead track's payload goes to the spool
// file as it arrives, into a fragment whose header is written at the cut
// into room left for it (unreferenced padding in mdat when the header is
// smaller), or, when the header outgrew its room, the fragment is written
// again whole. Both layouts must decode exactly as recorded.
func TestLeadPayloadWrittenAhead(t *testing.T) {
	e := newEnv(t, nil)
	e.run(t)
	smp := testenv.Sample(t, "sample-h264.ts")
	w := newWriter(e.rec, hub.New().Publish("cam1", smp.Tracks))
	w.lastHead = 0 // the first fragment's header cannot fit its room
	for k := range 2 {
		for _, u := range smp.Loop(k) {
			u.NTP = epoch.Add(ticksToDur(u.DTS, smp.Tracks[u.Track-1].ClockRate))
			w.handle(u)
			w.idle()
		}
	}
	w.finishSegment(0, false)
	drain(t, e.rec)

	rows := e.index.sorted()
	if got := checkSegments(t, e.store, rows, []string{"h264", "aac"}); got != 500 {
		t.Errorf("%d video frames stored, want 500", got)
	}
	// The first fragment was written again whole (no padding); the others
	// have their header in the room left for it, padding the mdat.
	var whole, padded int
	for _, row := range rows {
		seg := getObject(t, e.store, row.Key)
		if msg := decodeErrors(t, getObject(t, e.store, row.InitKey), seg); msg != "" {
			t.Errorf("segment %s does not decode cleanly: %s", row.Key, msg)
		}
		for _, f := range row.Fragments {
			moof, err := fmp4.ReadHeaderAt(bytesReaderAt(seg), f.Offset, f.Offset+f.Size)
			if err != nil {
				t.Fatal(err)
			}
			b := seg[f.Offset : f.Offset+moof.Size]
			at := bytes.Index(b, []byte("trun"))
			if at < 0 {
				t.Fatalf("fragment at %d has no trun", f.Offset)
			}
			switch off := int64(binary.BigEndian.Uint32(b[at+12:])); {
			case off == moof.Size+fmp4.BoxHeaderSize:
				whole++
			case off > moof.Size+fmp4.BoxHeaderSize:
				padded++
			default:
				t.Fatalf("fragment at %d: first sample at %d, inside the header", f.Offset, off)
			}
		}
	}
	if whole != 1 || padded < 10 {
		t.Errorf("%d fragments written whole and %d into their room, want 1 and the rest", whole, padded)
	}
}
