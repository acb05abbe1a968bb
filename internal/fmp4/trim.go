package fmp4

import (
	"encoding/binary"
	"fmt"
)

// Trim shortens the moof box b (exactly one box) in place so that a clip
// can end inside a fragment: each traf keeps its samples up to the last
// one presented before end(trackID), a time in that track's timescale on
// the axis of its tfdt (and at least its first sample, so that no traf is
// left empty). Samples are kept in decode order, so with B-frames a few
// presented after the end may remain. It returns the moof's new length,
// len(b) when nothing is dropped; the mdat is not touched (the dropped
// samples' bytes stay there, unreferenced: see Copier.CopyCut). A moof it
// cannot shorten safely (a traf with several truns, data offsets not
// relative to the moof, 64-bit box headers, sample durations left to the
// init segment) is left whole.
func Trim(b []byte, end func(trackID uint32) uint64) (int, error) {
	top, err := boxAt(b, 0, len(b))
	if err != nil || top.typ != "moof" || top.end != len(b) {
		return 0, fmt.Errorf("%w: not one moof box", ErrMalformed)
	}
	if top.body-top.start != BoxHeaderSize {
		return len(b), nil
	}
	out := make([]byte, BoxHeaderSize, len(b))
	copy(out, b[:BoxHeaderSize])
	whole := false
	err = children(b, top.body, top.end, func(c box) error {
		if whole {
			return nil
		}
		if c.typ != "traf" {
			out = append(out, b[c.start:c.end]...)
			return nil
		}
		var ok bool
		out, ok, err = appendTrimmedTraf(out, b, c, end)
		whole = !ok
		return err
	})
	if err != nil || whole {
		return len(b), err
	}
	binary.BigEndian.PutUint32(out, uint32(len(out)))
	return copy(b, out), nil
}

// appendTrimmedTraf appends traf c of b to dst with its trun shortened; ok
// is false when it cannot be.
func appendTrimmedTraf(dst, b []byte, c box, end func(uint32) uint64) (out []byte, ok bool, err error) {
	tr, err := parseTraf(b, c)
	if err != nil {
		return dst, false, err
	}
	var tfhd, trun box
	truns := 0
	_ = children(b, c.body, c.end, func(k box) error {
		if k.body-k.start != BoxHeaderSize {
			truns = 2 // not ours to rewrite
		}
		switch k.typ {
		case "tfhd":
			tfhd = k
		case "trun":
			trun = k
			truns++
		}
		return nil
	})
	if truns != 1 || tr.tfdtAt < 0 {
		return dst, false, nil
	}
	if tf := binary.BigEndian.Uint32(b[tfhd.body:]) & 0xffffff; tf&tfhdDefaultBaseIsMoof == 0 || tf&tfhdBaseDataOffset != 0 {
		return dst, false, nil
	}
	flags, count, p, per, err := trunLayoutOf(b, trun)
	if err != nil || count < 1 || flags&trunDurationPresent == 0 {
		return dst, false, err
	}
	signed := b[trun.body] == 1
	cto := -1 // offset of the composition offset in an entry
	if flags&trunCTOPresent != 0 {
		cto = per - 4
	}
	limit := int64(end(tr.TrackID))
	keep, t := 1, int64(tr.Base)
	for i := range count {
		e := b[p+i*per:]
		pts := t
		if cto >= 0 {
			v := binary.BigEndian.Uint32(e[cto:])
			if signed {
				pts += int64(int32(v))
			} else {
				pts += int64(v)
			}
		}
		if pts < limit {
			keep = i + 1
		}
		t += int64(binary.BigEndian.Uint32(e))
	}
	cut := trun.end - (p + keep*per) // bytes the trun loses
	be := binary.BigEndian
	dst = be.AppendUint32(dst, uint32(c.end-c.start-cut))
	dst = append(dst, "traf"...)
	err = children(b, c.body, c.end, func(k box) error {
		if k.typ != "trun" {
			dst = append(dst, b[k.start:k.end]...)
			return nil
		}
		dst = be.AppendUint32(dst, uint32(k.end-k.start-cut))
		dst = append(dst, b[k.start+4:k.body+4]...) // type, version and flags
		dst = be.AppendUint32(dst, uint32(keep))
		dst = append(dst, b[k.body+8:p+keep*per]...)
		return nil
	})
	return dst, true, err
}
