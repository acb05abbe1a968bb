package motion

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/testenv"
)

// The scene benchmark: ffmpeg renders scenes whose truth is known (a still
// test pattern, an object that enters and leaves at set times, camera
// noise, light changes), encoded as a camera would (libx264, fixed GOP, no
// B-frames, zerolatency), ffprobe lists every video packet's size and key
// flag, the detector reads them, and its event starts are matched against
// the truth within startTolerance. docs/benchmarks.md ("Motion detection")
// has the figures and the command.

// Scene geometry: low resolution keeps the rendering fast; what matters to
// the detector is the share of the frame that changes, not the pixels.
const (
	sceneW, sceneH = 320, 180
	sceneFPS       = 15
	startTolerance = 2 * time.Second
)

// move is one straight movement of the object: from x0 to x1 during
// [from, to] seconds at height y. x0 == x1 is the object standing still.
type move struct {
	from, to float64
	x0, x1   float64
	y        float64
}

// light is a brightness change: a step of level at from (to == from), or
// a ramp to level over [from, to].
type light struct {
	from, to float64
	level    float64
}

// encoder is how the scene is compressed.
type encoder struct {
	name string
	args []string
}

// scene is one rendered clip and its truth.
type scene struct {
	name    string
	dur     float64 // seconds
	noise   int     // ffmpeg noise filter strength (0: none)
	objW    int     // object size (height is 1.5 times)
	moves   []move
	lights  []light
	enc     encoder
	asserts bool // counts towards the precision and recall bar
}

// Encoders as cameras set them: variable bitrate at a quality (CRF) with
// 1 s or 2 s GOPs, quality with a bitrate cap, and a tight constant
// bitrate, the weak case (the encoder spends the same bits whatever moves).
var (
	encCRF2s = encoder{"crf26-gop2s", []string{"-crf", "26", "-g", "30"}}
	encCRF1s = encoder{"crf26-gop1s", []string{"-crf", "26", "-g", "15"}}
	encCap   = encoder{"crf23-cap200k", []string{"-crf", "23", "-maxrate", "200k", "-bufsize", "400k", "-g", "30"}}
	encCBR   = encoder{"cbr100k", []string{"-b:v", "100k", "-maxrate", "100k", "-bufsize", "50k", "-g", "30"}}
)

// crossing is the object crossing the frame left to right (or right to
// left) during [from, to].
func crossing(from, to float64, w int, leftToRight bool, y float64) move {
	x0, x1 := float64(-w), float64(sceneW)
	if !leftToRight {
		x0, x1 = x1, x0
	}
	return move{from: from, to: to, x0: x0, x1: x1, y: y}
}

// visits are the object's comings and goings of the motion scenes: eight
// crossings of 3 to 10 s with quiet gaps of 12 to 30 s, and one visit that
// walks in, stands still for 15 s and walks out (two motions).
func visits(w int) []move {
	mid := float64(sceneW/2 - w/2)
	return []move{
		crossing(15, 21, w, true, 60),
		crossing(40, 44, w, false, 100),
		crossing(60, 70, w, true, 20),
		crossing(85, 88, w, false, 120),
		crossing(110, 118, w, true, 80),
		{from: 140, to: 143, x0: float64(-w), x1: mid, y: 70},
		{from: 143, to: 158, x0: mid, x1: mid, y: 70},
		{from: 158, to: 161, x0: mid, x1: float64(sceneW), y: 70},
		crossing(180, 185, w, false, 40),
		crossing(205, 212, w, true, 110),
		crossing(230, 235, w, false, 60),
	}
}

// lightChanges switches a light on and off and dims slowly: none of it is
// motion.
func lightChanges() []light {
	return []light{
		{from: 20, to: 20, level: 0.12},  // light on
		{from: 50, to: 50, level: 0},     // off
		{from: 80, to: 83, level: -0.15}, // dusk over 3 s
		{from: 120, to: 120, level: 0},   // back
		{from: 150, to: 150, level: 0.2}, // bright step
		{from: 200, to: 210, level: 0},   // slow 10 s fade back
	}
}

// truth is the scene's motion: the moving intervals, merged.
func (s scene) truth() [][2]float64 {
	var out [][2]float64
	for _, m := range s.moves {
		if m.x0 == m.x1 {
			continue
		}
		if n := len(out); n > 0 && m.from <= out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], m.to)
			continue
		}
		out = append(out, [2]float64{m.from, m.to})
	}
	return out
}

// filter is the ffmpeg filter graph: the still background [0], the still
// object [1] overlaid along its moves, the light, then the noise.
func (s scene) filter() string {
	g := "[0]"
	if len(s.moves) > 0 {
		x, en := "-10000", make([]string, 0, len(s.moves))
		y := "0"
		for i := len(s.moves) - 1; i >= 0; i-- {
			m := s.moves[i]
			between := fmt.Sprintf("between(t,%g,%g)", m.from, m.to)
			x = fmt.Sprintf("if(%s,%g+(%g)*(t-%g)/%g,%s)", between, m.x0, m.x1-m.x0, m.from, m.to-m.from, x)
			y = fmt.Sprintf("if(%s,%g,%s)", between, m.y, y)
			en = append(en, between)
		}
		g += fmt.Sprintf("[1]overlay=x='%s':y='%s':enable='%s':eval=frame:shortest=1", x, y, strings.Join(en, "+"))
	} else {
		g += "null"
	}
	if len(s.lights) > 0 {
		level, prev := "0", 0.0
		for _, l := range s.lights {
			var v string
			if l.to > l.from {
				v = fmt.Sprintf("%g+(%g)*clip((t-%g)/%g,0,1)", prev, l.level-prev, l.from, l.to-l.from)
			} else {
				v = fmt.Sprintf("%g", l.level)
			}
			level = fmt.Sprintf("if(gte(t,%g),%s,%s)", l.from, v, level)
			prev = l.level
		}
		g += fmt.Sprintf(",eq=brightness='%s':eval=frame", level)
	}
	if s.noise > 0 {
		g += fmt.Sprintf(",noise=alls=%d:allf=t", s.noise)
	}
	return g
}

// still is a lavfi source of one frame of pattern held for ever.
func still(pattern string, w, h int) string {
	return fmt.Sprintf("%s=size=%dx%d:rate=%d,trim=end_frame=1,loop=loop=-1:size=1:start=0,setpts=N/%d/TB",
		pattern, w, h, sceneFPS, sceneFPS)
}

// packet is one video access unit as ffprobe lists it.
type packet struct {
	at   time.Duration
	size int
	key  bool
}

// render makes the scene's video in dir (reused when already there, so
// that tuning runs can keep MOTION_SCENE_DIR) and returns its packets.
func (s scene) render(t testing.TB, dir string) []packet {
	t.Helper()
	ffmpeg, ffprobe := testenv.Tool(t, "ffmpeg"), testenv.Tool(t, "ffprobe")
	out := filepath.Join(dir, s.name+".mp4")
	if _, err := os.Stat(out); err != nil {
		w := max(s.objW, 2)
		args := []string{"-hide_banner", "-v", "error", "-nostdin", "-y",
			"-f", "lavfi", "-i", still("testsrc2", sceneW, sceneH),
			"-f", "lavfi", "-i", still("testsrc", w, w*3/2),
			"-filter_complex", s.filter(), "-t", strconv.FormatFloat(s.dur, 'f', -1, 64),
			"-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-profile:v", "main",
			"-pix_fmt", "yuv420p", "-bf", "0", "-sc_threshold", "0"}
		args = append(args, s.enc.args...)
		tmp := out + ".part.mp4"
		args = append(args, tmp)
		if b, err := exec.Command(ffmpeg, args...).CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg %s: %v: %s", s.name, err, b)
		}
		if err := os.Rename(tmp, out); err != nil {
			t.Fatal(err)
		}
	}
	b, err := exec.Command(ffprobe, "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=dts_time,size,flags",
		"-of", "csv=p=0", out).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", s.name, err)
	}
	var pkts []packet
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(line, ",")
		if len(f) < 3 {
			continue
		}
		sec, err1 := strconv.ParseFloat(f[0], 64)
		size, err2 := strconv.Atoi(f[1])
		if err1 != nil || err2 != nil {
			t.Fatalf("ffprobe %s: bad line %q", s.name, line)
		}
		pkts = append(pkts, packet{at: time.Duration(sec * float64(time.Second)), size: size, key: strings.Contains(f[2], "K")})
	}
	return pkts
}

// detect runs a detector over the packets and returns its events.
func detect(pkts []packet, sensitivity int) []Edge {
	d := New(sensitivity)
	var evs []Edge
	for _, p := range pkts {
		if e, ok := d.Feed(p.at, p.size, p.key); ok && !e.Open {
			evs = append(evs, e)
		}
	}
	if e, ok := d.Flush(); ok {
		evs = append(evs, e)
	}
	return evs
}

// score matches detected starts to true starts within startTolerance, one
// to one, in time order.
type score struct {
	truth, detected, matched int
	startErr, endErr         time.Duration // sums over matched events
}

func match(truth [][2]float64, evs []Edge) score {
	sc := score{truth: len(truth), detected: len(evs)}
	used := make([]bool, len(evs))
	for _, tr := range truth {
		ts := time.Duration(tr[0] * float64(time.Second))
		te := time.Duration(tr[1] * float64(time.Second))
		best := -1
		for i, e := range evs {
			if used[i] || (e.Start-ts).Abs() > startTolerance {
				continue
			}
			if best < 0 || (e.Start-ts).Abs() < (evs[best].Start-ts).Abs() {
				best = i
			}
		}
		if best >= 0 {
			used[best] = true
			sc.matched++
			sc.startErr += (evs[best].Start - ts).Abs()
			sc.endErr += (evs[best].End - te).Abs()
		}
	}
	return sc
}

func (s score) precision() float64 {
	if s.detected == 0 {
		return 1
	}
	return float64(s.matched) / float64(s.detected)
}

func (s score) recall() float64 {
	if s.truth == 0 {
		return 1
	}
	return float64(s.matched) / float64(s.truth)
}

// scenes is the benchmark's scene set.
func scenes() []scene {
	var out []scene
	for _, e := range []encoder{encCRF2s, encCRF1s, encCap} {
		out = append(out,
			scene{name: "static-" + e.name, dur: 600, enc: e, asserts: true},
			scene{name: "moving-" + e.name, dur: 250, objW: 32, moves: visits(32), enc: e, asserts: true},
			scene{name: "moving-noise2-" + e.name, dur: 250, noise: 2, objW: 32, moves: visits(32), enc: e, asserts: true},
			scene{name: "noise2-" + e.name, dur: 250, noise: 2, enc: e, asserts: true},
			scene{name: "light-" + e.name, dur: 250, lights: lightChanges(), enc: e, asserts: true},
			scene{name: "light-moving-noise2-" + e.name, dur: 250, noise: 2, objW: 32, moves: visits(32), lights: lightChanges(), enc: e, asserts: true},
			scene{name: "moving-small-" + e.name, dur: 250, objW: 16, moves: visits(16), enc: e},
			scene{name: "moving-noise4-" + e.name, dur: 250, noise: 4, objW: 32, moves: visits(32), enc: e},
		)
	}
	out = append(out,
		scene{name: "static-" + encCBR.name, dur: 600, enc: encCBR},
		scene{name: "moving-" + encCBR.name, dur: 250, objW: 32, moves: visits(32), enc: encCBR},
		scene{name: "moving-noise2-" + encCBR.name, dur: 250, noise: 2, objW: 32, moves: visits(32), enc: encCBR},
	)
	return out
}

// TestScenes renders every scene, runs the detector at the default
// sensitivity and holds it to the bar: precision and recall of
// event starts within 2 s at least 0.9 over the asserted scenes, and no
// event at all in the 10-minute static scenes. Set MOTION_SCENE_DIR to keep
// the rendered scenes between runs, MOTION_SENSITIVITY to try another
// sensitivity (the bar is then not checked).
func TestScenes(t *testing.T) {
	if testing.Short() {
		t.Skip("renders about an hour of video with ffmpeg")
	}
	dir := os.Getenv("MOTION_SCENE_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	sens, check := DefaultSensitivity, true
	if v := os.Getenv("MOTION_SENSITIVITY"); v != "" {
		sens, _ = strconv.Atoi(v)
		check = false
	}
	var all score
	var rows []string
	for _, s := range scenes() {
		pkts := s.render(t, dir)
		evs := detect(pkts, sens)
		sc := match(s.truth(), evs)
		row := fmt.Sprintf("| %s | %d | %d | %d | %.2f | %.2f | %s | %s |", s.name, sc.truth, sc.detected, sc.matched,
			sc.precision(), sc.recall(), meanErr(sc.startErr, sc.matched), meanErr(sc.endErr, sc.matched))
		if !s.asserts {
			row += " not counted"
		}
		rows = append(rows, row)
		if testing.Verbose() {
			for _, e := range evs {
				t.Logf("%s: event %.1f-%.1f s peak %.2f", s.name, e.Start.Seconds(), e.End.Seconds(), e.Peak)
			}
		}
		if !s.asserts {
			continue
		}
		all.truth += sc.truth
		all.detected += sc.detected
		all.matched += sc.matched
		all.startErr += sc.startErr
		all.endErr += sc.endErr
		if check && strings.HasPrefix(s.name, "static-") && sc.detected > 0 {
			t.Errorf("%s: %d motion events in a static scene of %g s", s.name, sc.detected, s.dur)
		}
	}
	t.Logf("sensitivity %d\n| scene | true | detected | matched | precision | recall | start error | end error |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n%s\n"+
		"| counted scenes | %d | %d | %d | %.3f | %.3f | %s | %s |", sens, strings.Join(rows, "\n"),
		all.truth, all.detected, all.matched, all.precision(), all.recall(), meanErr(all.startErr, all.matched), meanErr(all.endErr, all.matched))
	if check && (all.precision() < 0.9 || all.recall() < 0.9) {
		t.Errorf("precision %.3f, recall %.3f: want both at least 0.9", all.precision(), all.recall())
	}
}

func meanErr(sum time.Duration, n int) string {
	if n == 0 {
		return "-"
	}
	return (sum / time.Duration(n)).Round(10 * time.Millisecond).String()
}
