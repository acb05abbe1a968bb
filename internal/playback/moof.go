package playback

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The clip exporter rewrites two fields of each moof box while streaming:
// the mfhd sequence number and each traf's tfdt base decode time. Both are
// fixed-size fields rewritten in place, so box sizes and trun data offsets
// stay valid and the mdat payload is copied untouched. moofInfo finds them
// and sums each traf's sample durations (to tell continuous fragments from
// breaks); it reads only the moof box, which is small.

// maxMoof bounds the moof box read into memory for one fragment (the
// recorder caps a fragment at 20000 samples, about 320 kB of trun).
const maxMoof = 4 << 20

// errBox reports a malformed moof.
var errBox = errors.New("malformed moof box")

// trafInfo is what the rebaser needs of one track fragment.
type trafInfo struct {
	trackID uint32
	tfdtAt  int  // offset in the moof of the tfdt value; -1 when absent
	tfdtV1  bool // 64-bit value
	base    uint64
	dur     uint64 // sum of sample durations, in the track's timescale
}

// moofInfo locates the fields of one moof box.
type moofInfo struct {
	seqAt int // offset of the mfhd sequence number; -1 when absent
	trafs []trafInfo
}

// box is one parsed box header inside a byte slice.
type box struct {
	typ        string
	start, end int // whole box
	body       int // first byte after the header
}

// nextBox reads the box header at off within b[:end].
func nextBox(b []byte, off, end int) (box, error) {
	if end > len(b) || off < 0 || end-off < 8 {
		return box{}, errBox
	}
	size := uint64(binary.BigEndian.Uint32(b[off:]))
	bx := box{typ: string(b[off+4 : off+8]), start: off, body: off + 8}
	switch size {
	case 0:
		size = uint64(end - off)
	case 1:
		if end-off < 16 {
			return box{}, errBox
		}
		size = binary.BigEndian.Uint64(b[off+8:])
		bx.body = off + 16
	}
	if size < uint64(bx.body-off) || size > uint64(end-off) {
		return box{}, errBox
	}
	bx.end = off + int(size)
	return bx, nil
}

// children calls fn with each box inside [off, end).
func children(b []byte, off, end int, fn func(box) error) error {
	for off < end {
		bx, err := nextBox(b, off, end)
		if err != nil {
			return err
		}
		if err := fn(bx); err != nil {
			return err
		}
		off = bx.end
	}
	return nil
}

// parseMoof reads the moof box that b holds exactly.
func parseMoof(b []byte) (moofInfo, error) {
	m := moofInfo{seqAt: -1}
	top, err := nextBox(b, 0, len(b))
	if err != nil || top.typ != "moof" || top.end != len(b) {
		return m, fmt.Errorf("%w: not one moof box", errBox)
	}
	err = children(b, top.body, top.end, func(c box) error {
		switch c.typ {
		case "mfhd":
			if c.end-c.body < 8 {
				return errBox
			}
			m.seqAt = c.body + 4
		case "traf":
			t, err := parseTraf(b, c)
			if err != nil {
				return err
			}
			m.trafs = append(m.trafs, t)
		}
		return nil
	})
	return m, err
}

// tfhd flags that add optional fields.
const (
	tfhdBaseDataOffset   = 0x01
	tfhdSampleDescIndex  = 0x02
	tfhdDefaultDuration  = 0x08
	tfhdDefaultSize      = 0x10
	tfhdDefaultFlags     = 0x20
	trunDataOffset       = 0x01
	trunFirstSampleFlags = 0x04
	trunSampleDuration   = 0x100
	trunSize             = 0x200
	trunFlags            = 0x400
	trunCTO              = 0x800
)

// parseTraf reads tfhd, tfdt and the trun durations of one traf.
func parseTraf(b []byte, traf box) (trafInfo, error) {
	t := trafInfo{tfdtAt: -1}
	var defDur uint32
	haveTfhd := false
	var truns []box
	err := children(b, traf.body, traf.end, func(c box) error {
		n := c.end - c.body
		switch c.typ {
		case "tfhd":
			if n < 8 {
				return errBox
			}
			flags := binary.BigEndian.Uint32(b[c.body:]) & 0xffffff
			t.trackID = binary.BigEndian.Uint32(b[c.body+4:])
			p := c.body + 8
			if flags&tfhdBaseDataOffset != 0 {
				p += 8
			}
			if flags&tfhdSampleDescIndex != 0 {
				p += 4
			}
			if flags&tfhdDefaultDuration != 0 {
				if p+4 > c.end {
					return errBox
				}
				defDur = binary.BigEndian.Uint32(b[p:])
			}
			haveTfhd = true
		case "tfdt":
			if n < 8 {
				return errBox
			}
			t.tfdtV1 = b[c.body] == 1
			t.tfdtAt = c.body + 4
			if t.tfdtV1 {
				if n < 12 {
					return errBox
				}
				t.base = binary.BigEndian.Uint64(b[t.tfdtAt:])
			} else {
				t.base = uint64(binary.BigEndian.Uint32(b[t.tfdtAt:]))
			}
		case "trun":
			truns = append(truns, c)
		}
		return nil
	})
	if err != nil {
		return t, err
	}
	if !haveTfhd {
		return t, fmt.Errorf("%w: traf without tfhd", errBox)
	}
	for _, c := range truns {
		d, err := trunDuration(b, c, defDur)
		if err != nil {
			return t, err
		}
		t.dur += d
	}
	return t, nil
}

// trunDuration sums the sample durations of one trun box.
func trunDuration(b []byte, c box, defDur uint32) (uint64, error) {
	if c.end-c.body < 8 {
		return 0, errBox
	}
	flags := binary.BigEndian.Uint32(b[c.body:]) & 0xffffff
	count := uint64(binary.BigEndian.Uint32(b[c.body+4:]))
	p := c.body + 8
	if flags&trunDataOffset != 0 {
		p += 4
	}
	if flags&trunFirstSampleFlags != 0 {
		p += 4
	}
	if flags&trunSampleDuration == 0 {
		return count * uint64(defDur), nil
	}
	per := 4
	for _, f := range []uint32{trunSize, trunFlags, trunCTO} {
		if flags&f != 0 {
			per += 4
		}
	}
	if p > c.end || uint64(c.end-p) < count*uint64(per) {
		return 0, fmt.Errorf("%w: trun shorter than its %d samples", errBox, count)
	}
	var sum uint64
	for i := uint64(0); i < count; i++ {
		sum += uint64(binary.BigEndian.Uint32(b[p:]))
		p += per
	}
	return sum, nil
}

// setSeq rewrites the mfhd sequence number.
func (m *moofInfo) setSeq(b []byte, seq uint32) {
	if m.seqAt >= 0 {
		binary.BigEndian.PutUint32(b[m.seqAt:], seq)
	}
}

// setBase rewrites the tfdt of traf i; a 32-bit field that cannot hold v is
// an error.
func (m *moofInfo) setBase(b []byte, i int, v uint64) error {
	t := &m.trafs[i]
	switch {
	case t.tfdtAt < 0:
		return fmt.Errorf("%w: traf of track %d has no tfdt", errBox, t.trackID)
	case t.tfdtV1:
		binary.BigEndian.PutUint64(b[t.tfdtAt:], v)
	case v > 0xffffffff:
		return fmt.Errorf("track %d: decode time %d does not fit a version 0 tfdt", t.trackID, v)
	default:
		binary.BigEndian.PutUint32(b[t.tfdtAt:], uint32(v))
	}
	return nil
}
