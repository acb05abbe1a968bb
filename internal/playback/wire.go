package playback

import (
	"fmt"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/store"
)

// spooledJSON is the answer of the holder's segments route: spooled
// segments as index rows, each with its committed fragments.
type spooledJSON struct {
	Segments []segmentJSON `json:"segments"`
}

// segmentJSON is one spooled segment.
type segmentJSON struct {
	Key       string         `json:"key"`
	InitKey   string         `json:"init_key"`
	Codec     string         `json:"codec"`
	Start     time.Time      `json:"start"`
	End       time.Time      `json:"end"`
	Size      int64          `json:"size"`
	Fragments []fragmentJSON `json:"fragments"`
}

// fragmentJSON is one committed fragment: where it lies in the segment's
// data, and when it starts (from the segment's start) and how long it
// lasts, in nanoseconds.
type fragmentJSON struct {
	Offset   int64 `json:"offset"`
	Size     int64 `json:"size"`
	Start    int64 `json:"start_ns"`
	Duration int64 `json:"duration_ns"`
	Key      bool  `json:"key"`
}

// toWire converts rows to the wire form.
func toWire(segs []store.Segment) []segmentJSON {
	out := make([]segmentJSON, 0, len(segs))
	for _, s := range segs {
		j := segmentJSON{Key: s.Key, InitKey: s.InitKey, Codec: s.Codec, Start: s.Start, End: s.End, Size: s.Size,
			Fragments: make([]fragmentJSON, 0, len(s.Fragments))}
		for _, f := range s.Fragments {
			j.Fragments = append(j.Fragments, fragmentJSON{Offset: f.Offset, Size: f.Size, Start: int64(f.Start),
				Duration: int64(f.Duration), Key: f.Key})
		}
		out = append(out, j)
	}
	return out
}

// fromWire converts a holder's answer for camera cam back to rows, and
// checks it is what a holder sends: at most maxSpooledSegments segments of
// that camera, each with whole, ordered fragments that fit its span. A
// holder is a server of the deployment, but what it says still decides
// which objects are read and which keys a token admits.
func fromWire(cam string, in []segmentJSON) ([]store.Segment, error) {
	if len(in) > maxSpooledSegments {
		return nil, fmt.Errorf("holder listed %d segments, at most %d", len(in), maxSpooledSegments)
	}
	prefix := "cam/" + cam + "/"
	out := make([]store.Segment, 0, len(in))
	for _, j := range in {
		if !strings.HasPrefix(j.Key, prefix) || !strings.HasPrefix(j.InitKey, prefix) || len(j.Fragments) == 0 ||
			len(j.Fragments) > store.MaxFragments || j.End.Before(j.Start) || j.End.Sub(j.Start) > store.MaxSegmentDuration {
			return nil, fmt.Errorf("holder listed a bad segment %q", j.Key)
		}
		s := store.Segment{CameraID: cam, Key: j.Key, InitKey: j.InitKey, Codec: j.Codec, Start: j.Start, End: j.End, Size: j.Size,
			Fragments: make([]store.Fragment, 0, len(j.Fragments))}
		var next int64
		for _, f := range j.Fragments {
			if f.Offset < next || f.Size <= 0 || f.Start < 0 || f.Duration < 0 ||
				j.Start.Add(time.Duration(f.Start+f.Duration)).After(j.End.Add(time.Millisecond)) {
				return nil, fmt.Errorf("holder listed a bad fragment in %q", j.Key)
			}
			next = f.Offset + f.Size
			s.Fragments = append(s.Fragments, store.Fragment{Offset: f.Offset, Size: f.Size, Start: time.Duration(f.Start),
				Duration: time.Duration(f.Duration), Key: f.Key})
		}
		out = append(out, s)
	}
	return out, nil
}
