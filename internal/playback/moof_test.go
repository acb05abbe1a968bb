package playback

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
)

// fragment marshals one moof+mdat with a video track (90 kHz, 25 samples of
// 3600) and an audio track (48 kHz, 3 samples of 1024) at the given times.
func fragment(t testing.TB, seq uint32, video, audio uint64) []byte {
	t.Helper()
	p := fmp4.Part{SequenceNumber: seq}
	vt := &fmp4.PartTrack{ID: 1, BaseTime: video}
	for i := range 25 {
		vt.Samples = append(vt.Samples, &fmp4.Sample{Duration: 3600, IsNonSyncSample: i > 0, Payload: []byte{1, 2, 3, byte(i)}})
	}
	at := &fmp4.PartTrack{ID: 2, BaseTime: audio}
	for range 3 {
		at.Samples = append(at.Samples, &fmp4.Sample{Duration: 1024, Payload: []byte{9, 9}})
	}
	p.Tracks = []*fmp4.PartTrack{vt, at}
	var buf seekablebuffer.Buffer
	if err := p.Marshal(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// parts reads back the times of a stream of fragments.
func parts(t *testing.T, b []byte) fmp4.Parts {
	t.Helper()
	var ps fmp4.Parts
	if err := ps.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	return ps
}

// rebaseAll copies fragments as a clip does (video, track 1, leading) and
// reads back what was written, and its size.
func rebaseAll(t *testing.T, clocks map[uint32]uint32, in [][]byte) (fmp4.Parts, int) {
	t.Helper()
	var out bytes.Buffer
	fw := &fragWriter{rb: newRebaser(1, clocks)}
	for _, f := range in {
		if err := fw.copyFragment(&out, bytes.NewReader(f), int64(len(f))); err != nil {
			t.Fatal(err)
		}
	}
	return parts(t, out.Bytes()), out.Len()
}

func moofLen(b []byte) int64 { return int64(binary.BigEndian.Uint32(b)) }

func TestRebase(t *testing.T) {
	clocks := map[uint32]uint32{1: 90000, 2: 48000}
	// Recording 1 from 10 s (two continuous fragments), then recording 2
	// restarting at 0, then a fragment of recording 2 after a hole.
	in := [][]byte{
		fragment(t, 7, 900000, 480000),
		fragment(t, 8, 990000, 480000+3072),
		fragment(t, 1, 0, 0),
		fragment(t, 5, 500000, 266667),
	}
	ps, size := rebaseAll(t, clocks, in)
	want := []struct {
		seq          uint32
		video, audio uint64
	}{
		{1, 0, 0},
		{2, 90000, 3072},
		{3, 180000, 96000},  // continues right after fragment 2's video
		{4, 270000, 144001}, // the hole is skipped; audio moves with video (5.5556 s -> 3 s)
	}
	for i, p := range ps {
		if p.SequenceNumber != want[i].seq || p.Tracks[0].BaseTime != want[i].video || p.Tracks[1].BaseTime != want[i].audio {
			t.Errorf("fragment %d: seq %d video %d audio %d, want %+v", i, p.SequenceNumber, p.Tracks[0].BaseTime, p.Tracks[1].BaseTime, want[i])
		}
		if len(p.Tracks[0].Samples) != 25 || !bytes.Equal(p.Tracks[0].Samples[3].Payload, []byte{1, 2, 3, 3}) {
			t.Errorf("fragment %d: samples changed", i)
		}
	}
	if size != len(in[0])+len(in[1])+len(in[2])+len(in[3]) {
		t.Errorf("rewriting changed sizes")
	}
}

func TestCopyFragmentRefusesMismatch(t *testing.T) {
	f := fragment(t, 1, 0, 0)
	fw := &fragWriter{rb: newRebaser(1, map[uint32]uint32{1: 90000, 2: 48000})}
	for name, c := range map[string]struct {
		data []byte
		size int64
	}{
		"index size differs": {f, int64(len(f)) + 1},
		"truncated":          {f[:len(f)-5], int64(len(f))},
		"mdat first":         {f[moofLen(f):], int64(len(f)) - moofLen(f)},
		"unknown track":      {fragmentTrack(t, 3), int64(len(fragmentTrack(t, 3)))},
		"huge moof size":     {append([]byte{0x7f, 0, 0, 0, 'm', 'o', 'o', 'f'}, f[8:]...), int64(len(f))},
	} {
		if err := fw.copyFragment(io.Discard, bytes.NewReader(c.data), c.size); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func fragmentTrack(t testing.TB, id int) []byte {
	p := fmp4.Part{SequenceNumber: 1, Tracks: []*fmp4.PartTrack{{ID: id, Samples: []*fmp4.Sample{{Duration: 1, Payload: []byte{1}}}}}}
	var buf seekablebuffer.Buffer
	if err := p.Marshal(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzRewrite feeds arbitrary bytes to the fragment copier and the
// rebaser: they must return errors, never panic or loop (the box parsers
// themselves are fuzzed in internal/fmp4).
func FuzzRewrite(f *testing.F) {
	f.Add(fragment(f, 1, 0, 0))
	f.Add(fragment(f, 9, 1<<40, 12345))
	f.Add(fragmentTrack(f, 1))
	f.Add([]byte{0, 0, 0, 8, 'm', 'o', 'o', 'f'})
	f.Add([]byte{0, 0, 0, 1, 'm', 'o', 'o', 'f', 0, 0, 0, 0, 0, 0, 0, 16})
	f.Fuzz(func(t *testing.T, b []byte) {
		fw := &fragWriter{rb: newRebaser(1, map[uint32]uint32{1: 90000, 2: 48000})}
		_ = fw.copyFragment(io.Discard, bytes.NewReader(b), int64(len(b)))
		_ = fw.rb.rewrite(b)
	})
}

// TestRebaseKeepsEveryTrackIncreasingAtARestart: when the earlier
// recording's audio ran past its video, the next recording is placed after
// both, so that no track's times go back at the join (ffmpeg said
// "non monotonically increasing dts" of such clips).
func TestRebaseKeepsEveryTrackIncreasingAtARestart(t *testing.T) {
	clocks := map[uint32]uint32{1: 90000, 2: 48000}
	in := [][]byte{
		fragment(t, 7, 900000, 480000),
		fragment(t, 8, 990000, 480000+96000), // audio 2 s ahead of its video
		fragment(t, 1, 0, 0),                 // a new recording
	}
	ps, _ := rebaseAll(t, clocks, in)
	var lastEnd [3]uint64
	for i, p := range ps {
		for _, tr := range p.Tracks {
			if tr.BaseTime < lastEnd[tr.ID] {
				t.Fatalf("fragment %d track %d starts at %d, before the end %d of what came before", i, tr.ID, tr.BaseTime, lastEnd[tr.ID])
			}
			var d uint64
			for _, s := range tr.Samples {
				d += uint64(s.Duration)
			}
			lastEnd[tr.ID] = tr.BaseTime + d
		}
	}
	// Audio of the new recording right after the old audio's end, video
	// moved by the same wall-clock time.
	if a, v := ps[2].Tracks[1].BaseTime, ps[2].Tracks[0].BaseTime; a != 96000+3072 || v != 180000+5760 {
		t.Errorf("the new recording starts at video %d audio %d, want %d and %d", v, a, 180000+5760, 96000+3072)
	}
}

// TestRebaseDelaysATrackThatStartsBeforeTheLead: audio that starts before
// the first keyframe of a clip is delayed to 0, and its next fragments by
// as much, so that its times never go back (they did when only the first
// fragment was moved to 0).
func TestRebaseDelaysATrackThatStartsBeforeTheLead(t *testing.T) {
	clocks := map[uint32]uint32{1: 90000, 2: 48000}
	in := [][]byte{
		fragment(t, 7, 900000, 480000-1458), // audio 30 ms before the video
		fragment(t, 8, 990000, 480000-1458+3072),
	}
	ps, _ := rebaseAll(t, clocks, in)
	if v, a := ps[0].Tracks[0].BaseTime, ps[0].Tracks[1].BaseTime; v != 0 || a != 0 {
		t.Errorf("the clip starts at video %d audio %d, want both at 0", v, a)
	}
	if v, a := ps[1].Tracks[0].BaseTime, ps[1].Tracks[1].BaseTime; v != 90000 || a != 3072 {
		t.Errorf("the second fragment starts at video %d audio %d, want 90000 and 3072 (right after the first's audio)", v, a)
	}
}
