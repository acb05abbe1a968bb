// Package sample loads the media samples shipped in testdata/ (MPEG-TS with
// H.264 or H.265 video and optional AAC audio) into hub units, and plays them
// in a loop paced in real time. Simulated cameras and tests use it so that
// they push real, decodable video without any camera at hand.
package sample

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	tscodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"

	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/nalu"
)

// Bounds on what Load accepts, so a wrong or hostile file cannot exhaust memory.
const (
	maxFileSize = 64 << 20 // bytes of MPEG-TS
	maxUnits    = 200000   // access units across tracks
)

// videoClock is the clock rate of MPEG-TS timestamps and of the video tracks.
const videoClock = 90000

// Sample is a demuxed media file: its tracks and all of its access units in
// decode order, with timestamps counted from zero. Units are shared: never
// modify them; Loop and Play hand out fresh copies.
type Sample struct {
	// Tracks are numbered from 1 in file order: video (ClockRate 90000)
	// and AAC (ClockRate = sample rate).
	Tracks []hub.Track
	// Units are in decode order; the first is a video keyframe at DTS 0.
	Units []*hub.Unit
	// Duration is the loop length: Play and Loop shift each pass by it.
	Duration time.Duration
}

// Load demuxes an MPEG-TS file with H.264/H.265 video and/or AAC audio.
// Other elementary streams are ignored. Timestamps are shifted so that the
// earliest DTS is zero, and units past the video's end are dropped so that
// every track has the same loop length.
func Load(path string) (*Sample, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > maxFileSize {
		return nil, fmt.Errorf("sample %s: %d bytes is over the %d byte limit", path, st.Size(), maxFileSize)
	}
	s, err := demux(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("sample %s: %w", path, err)
	}
	return s, nil
}

// Parse demuxes an MPEG-TS sample held in memory, such as the one embedded
// in the binary (camcloud.SampleH264).
func Parse(b []byte) (*Sample, error) {
	if int64(len(b)) > maxFileSize {
		return nil, fmt.Errorf("sample: %d bytes is over the %d byte limit", len(b), maxFileSize)
	}
	return demux(bytes.NewReader(b))
}

// rawUnit is a unit with its timestamps still in the 33-bit MPEG-TS clock.
type rawUnit struct {
	u        *hub.Unit
	pts, dts int64 // 90 kHz, unwrapped
	extra    int64 // added after conversion (AAC frames within one PES), track clock
}

type demuxer struct {
	tracks []hub.Track
	units  []rawUnit
	td     mpegts.TimeDecoder
	err    error
}

func demux(r io.Reader) (*Sample, error) {
	tr := &mpegts.Reader{R: r}
	if err := tr.Initialize(); err != nil {
		return nil, fmt.Errorf("reading MPEG-TS: %w", err)
	}
	d := &demuxer{}
	d.td.Initialize()
	for _, t := range tr.Tracks() {
		d.addTrack(tr, t)
	}
	if len(d.tracks) == 0 {
		return nil, errors.New("no H.264, H.265 or AAC track")
	}
	for {
		err := tr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading MPEG-TS: %w", err)
		}
		if d.err != nil {
			return nil, d.err
		}
	}
	return d.finish()
}

// addTrack registers one TS track with a callback that collects its units.
func (d *demuxer) addTrack(tr *mpegts.Reader, t *mpegts.Track) {
	id := len(d.tracks) + 1
	switch c := t.Codec.(type) {
	case *tscodecs.H264:
		codec := &codecs.H264{}
		d.tracks = append(d.tracks, hub.Track{ID: id, Codec: codec, ClockRate: videoClock})
		tr.OnDataH264(t, func(pts, dts int64, au [][]byte) error {
			key := h264.IsRandomAccess(au)
			if key && codec.SPS == nil {
				codec.SPS, codec.PPS = h264Params(au)
			}
			return d.add(id, pts, dts, 0, key, au)
		})
	case *tscodecs.H265:
		codec := &codecs.H265{}
		d.tracks = append(d.tracks, hub.Track{ID: id, Codec: codec, ClockRate: videoClock})
		tr.OnDataH265(t, func(pts, dts int64, au [][]byte) error {
			key := h265.IsRandomAccess(au)
			if key && codec.SPS == nil {
				codec.VPS, codec.SPS, codec.PPS = h265Params(au)
			}
			return d.add(id, pts, dts, 0, key, au)
		})
	case *tscodecs.MPEG4Audio:
		if c.Config.SampleRate <= 0 {
			return
		}
		cfg := c.Config
		d.tracks = append(d.tracks, hub.Track{ID: id, Codec: &codecs.MPEG4Audio{Config: cfg},
			ClockRate: cfg.SampleRate})
		tr.OnDataMPEG4Audio(t, func(pts int64, aus [][]byte) error {
			for i, au := range aus {
				extra := int64(i) * mpeg4audio.SamplesPerAccessUnit
				if err := d.add(id, pts, pts, extra, true, [][]byte{au}); err != nil {
					return err
				}
			}
			return nil
		})
	}
}

func (d *demuxer) add(track int, pts, dts, extra int64, key bool, payload [][]byte) error {
	if len(d.units) >= maxUnits {
		return fmt.Errorf("more than %d access units", maxUnits)
	}
	udts := d.td.Decode(dts)
	upts := udts + ((pts - dts) & 0x1FFFFFFFF)
	d.units = append(d.units, rawUnit{u: &hub.Unit{Track: track, Key: key, Payload: payload},
		pts: upts, dts: udts, extra: extra})
	return nil
}

// finish converts timestamps to each track's clock, starting at zero, trims
// every track to the video's length and sorts the units by decode time.
func (d *demuxer) finish() (*Sample, error) {
	if len(d.units) == 0 {
		return nil, errors.New("no access units")
	}
	for _, t := range d.tracks {
		if t.IsVideo() && !hub.HasParams(t.Codec) {
			return nil, fmt.Errorf("track %d: no parameter sets (SPS/PPS) found", t.ID)
		}
	}
	lead := leadTrack(d.tracks)
	base, found := int64(0), false
	for _, ru := range d.units {
		if ru.u.Track == lead.ID && ru.u.Key {
			base, found = ru.dts, true
			break
		}
	}
	if !found {
		return nil, errors.New("no keyframe")
	}
	// Units before the first keyframe (and audio that starts a little
	// earlier) are dropped, so that every loop starts with a keyframe.
	kept := d.units[:0]
	for _, ru := range d.units {
		clock := int64(d.tracks[ru.u.Track-1].ClockRate)
		ru.u.DTS = (ru.dts-base)*clock/videoClock + ru.extra
		ru.u.PTS = (ru.pts-base)*clock/videoClock + ru.extra
		if ru.u.DTS < 0 {
			continue
		}
		kept = append(kept, ru)
	}
	dur := loopDuration(lead, kept)
	if dur <= 0 {
		return nil, errors.New("could not determine the duration")
	}
	s := &Sample{Tracks: d.tracks, Duration: dur}
	for _, ru := range kept {
		if ticksToDur(ru.u.DTS, d.tracks[ru.u.Track-1].ClockRate) < dur {
			s.Units = append(s.Units, ru.u)
		}
	}
	sort.SliceStable(s.Units, func(i, j int) bool {
		return s.unitTime(s.Units[i]) < s.unitTime(s.Units[j])
	})
	return s, nil
}

// leadTrack is the first video track, or the first track when none is video.
func leadTrack(tracks []hub.Track) hub.Track {
	for _, t := range tracks {
		if t.IsVideo() {
			return t
		}
	}
	return tracks[0]
}

// loopDuration is the span of the lead track: from zero to its last DTS plus
// one average frame.
func loopDuration(lead hub.Track, units []rawUnit) time.Duration {
	var first, last int64 = -1, -1
	n := 0
	for _, ru := range units {
		if ru.u.Track != lead.ID {
			continue
		}
		if first < 0 {
			first = ru.u.DTS
		}
		last = ru.u.DTS
		n++
	}
	if n < 2 {
		return 0
	}
	frame := (last - first) / int64(n-1)
	return ticksToDur(last+frame, lead.ClockRate)
}

// h264Params returns the SPS and PPS of au, or nils unless both are there.
func h264Params(au [][]byte) (sps, pps []byte) {
	sps, pps = nalu.H264Params(au)
	if sps == nil || pps == nil {
		return nil, nil
	}
	return sps, pps
}

// h265Params returns the VPS, SPS and PPS of au, or nils unless all are there.
func h265Params(au [][]byte) (vps, sps, pps []byte) {
	vps, sps, pps = nalu.H265Params(au)
	if vps == nil || sps == nil || pps == nil {
		return nil, nil, nil
	}
	return vps, sps, pps
}

func ticksToDur(ticks int64, clock int) time.Duration {
	return time.Duration(ticks * int64(time.Second) / int64(clock))
}

func durToTicks(d time.Duration, clock int) int64 {
	return int64(d) * int64(clock) / int64(time.Second)
}

// unitTime is the decode time of u from the start of the loop.
func (s *Sample) unitTime(u *hub.Unit) time.Duration {
	return ticksToDur(u.DTS, s.Tracks[u.Track-1].ClockRate)
}
