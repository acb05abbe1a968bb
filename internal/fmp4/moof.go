package fmp4

import (
	"encoding/binary"
	"fmt"
)

// Clip export rewrites two fields of each moof box while streaming: the
// mfhd sequence number and each traf's tfdt base decode time. Both are
// fixed-size fields rewritten in place, so box sizes and trun data offsets
// stay valid and the mdat payload is copied untouched. ParseMoof finds them
// and sums each traf's sample durations (to tell continuous fragments from
// breaks); it reads only the moof box, which is small.

// MaxMoof bounds the moof box read into memory for one fragment (the
// recorder caps a fragment at 20000 samples, about 320 kB of trun).
const MaxMoof = 4 << 20

// Traf is what a rewriter needs of one track fragment.
type Traf struct {
	TrackID uint32
	Base    uint64 // tfdt base decode time
	Dur     uint64 // sum of sample durations, in the track's timescale
	tfdtAt  int    // offset in the moof of the tfdt value; -1 when absent
	tfdtV1  bool   // 64-bit value
}

// Moof locates the rewritable fields of one moof box.
type Moof struct {
	Trafs []Traf
	seqAt int // offset of the mfhd sequence number; -1 when absent
}

// ParseMoof reads the moof box that b holds exactly.
func ParseMoof(b []byte) (Moof, error) {
	m := Moof{seqAt: -1}
	top, err := boxAt(b, 0, len(b))
	if err != nil || top.typ != "moof" || top.end != len(b) {
		return m, fmt.Errorf("%w: not one moof box", ErrMalformed)
	}
	err = children(b, top.body, top.end, func(c box) error {
		switch c.typ {
		case "mfhd":
			if c.end-c.body < 8 {
				return ErrMalformed
			}
			m.seqAt = c.body + 4
		case "traf":
			t, err := parseTraf(b, c)
			if err != nil {
				return err
			}
			m.Trafs = append(m.Trafs, t)
		}
		return nil
	})
	return m, err
}

// tfhd flags that add optional fields (the trun flags are in fragment.go).
const (
	tfhdBaseDataOffset  = 0x01
	tfhdSampleDescIndex = 0x02
	tfhdDefaultDuration = 0x08
)

// parseTraf reads tfhd, tfdt and the trun durations of one traf.
func parseTraf(b []byte, traf box) (Traf, error) {
	t := Traf{tfdtAt: -1}
	var defDur uint32
	haveTfhd := false
	var truns []box
	err := children(b, traf.body, traf.end, func(c box) error {
		n := c.end - c.body
		switch c.typ {
		case "tfhd":
			if n < 8 {
				return ErrMalformed
			}
			flags := binary.BigEndian.Uint32(b[c.body:]) & 0xffffff
			t.TrackID = binary.BigEndian.Uint32(b[c.body+4:])
			p := c.body + 8
			if flags&tfhdBaseDataOffset != 0 {
				p += 8
			}
			if flags&tfhdSampleDescIndex != 0 {
				p += 4
			}
			if flags&tfhdDefaultDuration != 0 {
				if p+4 > c.end {
					return ErrMalformed
				}
				defDur = binary.BigEndian.Uint32(b[p:])
			}
			haveTfhd = true
		case "tfdt":
			if n < 8 {
				return ErrMalformed
			}
			t.tfdtV1 = b[c.body] == 1
			t.tfdtAt = c.body + 4
			if t.tfdtV1 {
				if n < 12 {
					return ErrMalformed
				}
				t.Base = binary.BigEndian.Uint64(b[t.tfdtAt:])
			} else {
				t.Base = uint64(binary.BigEndian.Uint32(b[t.tfdtAt:]))
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
		return t, fmt.Errorf("%w: traf without tfhd", ErrMalformed)
	}
	for _, c := range truns {
		d, err := trunDuration(b, c, defDur)
		if err != nil {
			return t, err
		}
		t.Dur += d
	}
	return t, nil
}

// trunLayoutOf reads a trun box's header: its flags, its sample count,
// where its first entry is and the size of one entry. It checks the
// entries fit the box.
func trunLayoutOf(b []byte, c box) (flags uint32, count, first, per int, err error) {
	if c.end-c.body < 8 {
		return 0, 0, 0, 0, ErrMalformed
	}
	flags = binary.BigEndian.Uint32(b[c.body:]) & 0xffffff
	n := uint64(binary.BigEndian.Uint32(b[c.body+4:]))
	first = c.body + 8
	if flags&trunDataOffsetPresent != 0 {
		first += 4
	}
	if flags&trunFirstSampleFlagsPresent != 0 {
		first += 4
	}
	for _, f := range []uint32{trunDurationPresent, trunSizePresent, trunFlagsPresent, trunCTOPresent} {
		if flags&f != 0 {
			per += 4
		}
	}
	if first > c.end || (per > 0 && uint64(c.end-first)/uint64(per) < n) {
		return 0, 0, 0, 0, fmt.Errorf("%w: trun shorter than its %d samples", ErrMalformed, n)
	}
	return flags, int(n), first, per, nil
}

// trunDuration sums the sample durations of one trun box.
func trunDuration(b []byte, c box, defDur uint32) (uint64, error) {
	flags, count, p, per, err := trunLayoutOf(b, c)
	if err != nil {
		return 0, err
	}
	if flags&trunDurationPresent == 0 {
		return uint64(count) * uint64(defDur), nil
	}
	var sum uint64
	for range count {
		sum += uint64(binary.BigEndian.Uint32(b[p:]))
		p += per
	}
	return sum, nil
}

// SetSeq rewrites the mfhd sequence number in b, the moof box m was parsed from.
func (m *Moof) SetSeq(b []byte, seq uint32) {
	if m.seqAt >= 0 {
		binary.BigEndian.PutUint32(b[m.seqAt:], seq)
	}
}

// SetBase rewrites the tfdt of traf i in b, the moof box m was parsed from;
// a 32-bit field that cannot hold v is an error.
func (m *Moof) SetBase(b []byte, i int, v uint64) error {
	t := &m.Trafs[i]
	switch {
	case t.tfdtAt < 0:
		return fmt.Errorf("%w: traf of track %d has no tfdt", ErrMalformed, t.TrackID)
	case t.tfdtV1:
		binary.BigEndian.PutUint64(b[t.tfdtAt:], v)
	case v > 0xffffffff:
		return fmt.Errorf("track %d: decode time %d does not fit a version 0 tfdt", t.TrackID, v)
	default:
		binary.BigEndian.PutUint32(b[t.tfdtAt:], uint32(v))
	}
	return nil
}
