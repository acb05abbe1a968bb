package record

import (
	"fmt"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/sample"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestFragmentsCutAtKeyframes records media with GOPs of 1, 2 and 4 s (and
// one that does not divide into fragments evenly) at the default fragment
// duration of 0.9 s: every keyframe starts a fragment, every fragment marked
// as a keyframe starts at one, no fragment lasts longer than the cut rules
// allow (what a crash can lose), and a GOP is split into equal fragments.
func TestFragmentsCutAtKeyframes(t *testing.T) {
	const (
		fps   = 25
		frame = time.Second / fps
		fragD = 900 * time.Millisecond
		loops = 2
	)
	cases := []struct {
		gop, gops int // frames per GOP, GOPs in the media
		perGOP    int // fragments per GOP
	}{{25, 12, 1}, {50, 6, 2}, {100, 3, 4}, {27, 11, 2}}
	for _, c := range cases {
		t.Run(fmt.Sprintf("gop=%d", c.gop), func(t *testing.T) {
			smp, err := sample.Load(testenv.GOPMedia(t, fps, c.gop, c.gops))
			if err != nil {
				t.Fatal(err)
			}
			e := newEnv(t, func(cfg *Config) { cfg.SegmentDuration = 6 * time.Second; cfg.FragmentDuration = fragD })
			e.run(t)
			f := startRecording(t, e.rec, "cam1", smp)
			f.feed(0, loops)
			if err := f.end(); err != nil {
				t.Fatal(err)
			}
			drain(t, e.rec)
			rows := e.index.sorted()
			gop := time.Duration(c.gop) * frame
			longest := fragD + fragD/8
			keys, frags := 0, 0
			for _, row := range rows {
				for j, fr := range row.Fragments {
					at := row.Start.Sub(epoch) + fr.Start // the source's time of the fragment's first frame
					if onKey := at%gop == 0; fr.Key != onKey {
						t.Errorf("row %v fragment %d at %v: key %v, but a keyframe there is %v", row.Start, j, at, fr.Key, onKey)
					}
					if fr.Duration > longest {
						t.Errorf("row %v fragment %d lasts %v, more than %v", row.Start, j, fr.Duration, longest)
					}
					if fr.Key {
						keys++
					}
					frags++
				}
			}
			if want := loops * c.gops; keys != want {
				t.Errorf("%d fragments start at a keyframe, want every keyframe: %d", keys, want)
			}
			// The first GOP is cut every 0.9 s: its length is not known yet.
			first := (c.gop*int(frame) + int(fragD) - 1) / int(fragD)
			if want := (keys-1)*c.perGOP + first; frags != want {
				t.Errorf("%d fragments for %d GOPs, want %d per GOP after the first: %d", frags, keys, c.perGOP, want)
			}
			checkSegments(t, e.store, rows, []string{"h264", "aac"})
		})
	}
}
