package record

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestRecordingBytesGolden records the shipped samples through the
// recorder (hub, writer, spool, group commit, upload) and compares what it
// stored, byte for byte, with what this code stored when the test was
// written: the init segment, every segment object and every index row. The
// inputs are deterministic (the samples' own timestamps, NTP times derived
// from them from a fixed epoch), and so is the output: nothing is
// normalised. A change that alters the recorded bytes must say why and
// update the golden hashes.
func TestRecordingBytesGolden(t *testing.T) {
	cases := []struct {
		sample string
		loops  int
		// rewrite drives the writer directly with no room for the first
		// fragment's header, so that it is written again whole.
		rewrite bool
		want    string // SHA-256 of the manifest
	}{
		{"sample-h264.ts", 2, false, "cf58d72a6cb9008d87e8e3b85afd25ab26e0dc4c499acde36993c91042c0b16f"},
		{"sample-h265.ts", 1, false, "7e7c4e58d95927ebdc92e58a1f7624eddb266a8e1fadfaa730a2e7a55b87c785"},
		{"sample-h264.ts", 1, true, "3b5cd9c614abe06e2bbf14c5fd1ccd59c176571d7376b1d3b2f9956090c10ff5"},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/rewrite=%v", c.sample, c.rewrite), func(t *testing.T) {
			e := newEnv(t, nil) // 4 s segments, 1 s fragments
			e.run(t)
			smp := testenv.Sample(t, c.sample)
			if c.rewrite {
				w := newWriter(e.rec, hub.New().Publish("cam1", smp.Tracks))
				w.lastHead = 0
				for k := range c.loops {
					for _, u := range smp.Loop(k) {
						u.NTP = epoch.Add(ticksToDur(u.DTS, smp.Tracks[u.Track-1].ClockRate))
						w.handle(u)
						w.idle()
					}
				}
				w.finishSegment(0, false)
			} else {
				f := startRecording(t, e.rec, "cam1", smp)
				f.feed(0, c.loops)
				if err := f.end(); err != nil {
					t.Fatal(err)
				}
			}
			drain(t, e.rec)
			m := recordingManifest(t, e)
			sum := sha256.Sum256([]byte(m))
			if got := hex.EncodeToString(sum[:]); got != c.want {
				t.Errorf("recorded bytes changed: manifest hash %s, want %s; manifest:\n%s", got, c.want, m)
			}
		})
	}
}

// recordingManifest describes what a recording stored: for each index row
// (by start) the row as JSON and the SHA-256 of its object, and the
// SHA-256 of each init segment the rows name.
func recordingManifest(t *testing.T, e *env) string {
	t.Helper()
	var b strings.Builder
	inits := map[string]bool{}
	for _, row := range e.index.sorted() {
		row.Start, row.End = row.Start.UTC(), row.End.UTC()
		j, err := json.Marshal(row)
		if err != nil {
			t.Fatal(err)
		}
		obj := getObject(t, e.store, row.Key)
		fmt.Fprintf(&b, "row %s\nobject %s %d %x\n", j, row.Key, len(obj), sha256.Sum256(obj))
		if !inits[row.InitKey] {
			inits[row.InitKey] = true
			init := getObject(t, e.store, row.InitKey)
			fmt.Fprintf(&b, "init %s %d %x\n", row.InitKey, len(init), sha256.Sum256(init))
		}
	}
	if len(inits) == 0 {
		t.Fatal("nothing was recorded")
	}
	return b.String()
}
