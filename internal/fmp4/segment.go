package fmp4

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
)

// ScanSegment checks a segment object as the recorder writes it (moof+mdat
// pairs, nothing else) while reading it once from a stream, in constant
// memory but for one moof at a time, and returns its fragments. What it
// checks: every top-level box is a moof followed by its mdat; each traf
// names a track of the init segment (lengthPrefixed lists them: true for
// video, whose samples are NAL units with 4-byte lengths) and has a tfhd
// with default-base-is-moof, a tfdt and truns with data offsets; every
// sample lies inside its fragment's mdat, no two overlap; and each sample
// of a length-prefixed track is exactly a run of NAL units. The stream
// must end where the last fragment does (size bytes in all).
func ScanSegment(r io.Reader, size int64, lengthPrefixed map[uint32]bool) ([]ScannedFragment, error) {
	sc := &segScanner{r: r, lp: lengthPrefixed}
	var out []ScannedFragment
	for sc.off < size {
		if len(out) >= maxScanFragments {
			return nil, fmt.Errorf("%w: more than %d fragments", ErrMalformed, maxScanFragments)
		}
		f, err := sc.fragment(size)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no fragment", ErrMalformed)
	}
	// Nothing may follow.
	var one [1]byte
	if n, _ := r.Read(one[:]); n > 0 {
		return nil, fmt.Errorf("%w: data after %d bytes", ErrMalformed, size)
	}
	return out, nil
}

// maxScanFragments bounds the fragments of one scanned segment (a 3 h
// segment of 1 s fragments has about 11000).
const maxScanFragments = 100000

// ScannedFragment is one fragment of a scanned segment: where it lies in
// the object, and its track fragments.
type ScannedFragment struct {
	Offset, Size int64
	Trafs        []ScannedTraf
}

// ScannedTraf is one track fragment: its track, tfdt base decode time,
// the sum of its sample durations (both in the track's timescale), its
// number of samples and whether the first one is a sync sample.
type ScannedTraf struct {
	TrackID   uint32
	Base, Dur uint64
	Samples   int
	FirstSync bool
}

// Traf returns the track fragment of track id, ok false when the
// fragment has none.
func (f ScannedFragment) Traf(id uint32) (ScannedTraf, bool) {
	for _, t := range f.Trafs {
		if t.TrackID == id {
			return t, true
		}
	}
	return ScannedTraf{}, false
}

// segScanner reads a segment stream, counting its offset.
type segScanner struct {
	r   io.Reader
	lp  map[uint32]bool
	off int64
	hdr [16]byte
	buf []byte
}

func (sc *segScanner) read(b []byte) error {
	n, err := io.ReadFull(sc.r, b)
	sc.off += int64(n)
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%w at byte %d", ErrTruncated, sc.off)
	}
	return err
}

func (sc *segScanner) skip(n int64) error {
	m, err := io.CopyN(io.Discard, sc.r, n)
	sc.off += m
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%w at byte %d", ErrTruncated, sc.off)
	}
	return err
}

// header reads one box header, which must be of type want and end by size.
func (sc *segScanner) header(want string, size int64) (Header, error) {
	at := sc.off
	if size-at < BoxHeaderSize {
		return Header{}, fmt.Errorf("%w: %s at byte %d", ErrTruncated, want, at)
	}
	if err := sc.read(sc.hdr[:BoxHeaderSize]); err != nil {
		return Header{}, err
	}
	n := BoxHeaderSize
	if hasLargeSize(sc.hdr[:]) {
		if err := sc.read(sc.hdr[8:16]); err != nil {
			return Header{}, err
		}
		n = 16
	}
	h, err := ParseHeader(sc.hdr[:n], size-at)
	if err != nil {
		return Header{}, fmt.Errorf("box at byte %d: %w", at, err)
	}
	if h.Type != want {
		return Header{}, fmt.Errorf("%w: %q box at byte %d, want %s", ErrMalformed, h.Type, at, want)
	}
	return h, nil
}

// sampleRange is where one sample lies, from the moof's start.
type sampleRange struct {
	off, size int64
	track     uint32
}

// fragment reads one moof and its mdat.
func (sc *segScanner) fragment(size int64) (ScannedFragment, error) {
	start := sc.off
	moof, err := sc.header("moof", size)
	if err != nil {
		return ScannedFragment{}, err
	}
	if moof.Size > MaxMoof {
		return ScannedFragment{}, fmt.Errorf("%w: moof of %d bytes at byte %d", ErrMalformed, moof.Size, start)
	}
	if cap(sc.buf) < int(moof.Size) {
		sc.buf = make([]byte, moof.Size)
	}
	b := sc.buf[:moof.Size]
	copy(b, sc.hdr[:moof.Len])
	if err := sc.read(b[moof.Len:]); err != nil {
		return ScannedFragment{}, err
	}
	f := ScannedFragment{Offset: start}
	var samples []sampleRange
	err = children(b, moof.Len, len(b), func(c box) error {
		if c.typ != "traf" {
			return nil
		}
		t, ss, err := sc.traf(b, c)
		if err != nil {
			return err
		}
		f.Trafs = append(f.Trafs, t)
		samples = append(samples, ss...)
		return nil
	})
	if err != nil {
		return ScannedFragment{}, fmt.Errorf("moof at byte %d: %w", start, err)
	}
	if len(f.Trafs) == 0 {
		return ScannedFragment{}, fmt.Errorf("%w: moof at byte %d has no track fragment", ErrMalformed, start)
	}
	mdat, err := sc.header("mdat", size)
	if err != nil {
		return ScannedFragment{}, err
	}
	payload := moof.Size + int64(mdat.Len) // first mdat payload byte, from the moof's start
	end := moof.Size + mdat.Size
	sort.Slice(samples, func(i, j int) bool { return samples[i].off < samples[j].off })
	at := payload
	for _, s := range samples {
		if s.off < at || s.off+s.size > end {
			return ScannedFragment{}, fmt.Errorf("%w: fragment at byte %d: a sample of track %d lies outside its mdat or over another",
				ErrMalformed, start, s.track)
		}
		if err := sc.skip(s.off - at); err != nil {
			return ScannedFragment{}, err
		}
		if sc.lp[s.track] {
			err = sc.nalUnits(s.size)
		} else {
			err = sc.skip(s.size)
		}
		if err != nil {
			return ScannedFragment{}, fmt.Errorf("fragment at byte %d, track %d: %w", start, s.track, err)
		}
		at = s.off + s.size
	}
	if err := sc.skip(end - at); err != nil {
		return ScannedFragment{}, err
	}
	f.Size = sc.off - start
	return f, nil
}

// nalUnits reads one length-prefixed sample of n bytes: NAL units, each
// a 4-byte big-endian length and that many (at least 1) bytes, ending
// exactly at n.
func (sc *segScanner) nalUnits(n int64) error {
	var l [4]byte
	for n > 0 {
		if n < 5 {
			return fmt.Errorf("%w: %d bytes left in a sample, not a NAL unit", ErrMalformed, n)
		}
		if err := sc.read(l[:]); err != nil {
			return err
		}
		size := int64(binary.BigEndian.Uint32(l[:]))
		if size == 0 || size > n-4 {
			return fmt.Errorf("%w: NAL unit of %d bytes in a sample with %d left", ErrMalformed, size, n-4)
		}
		if err := sc.skip(size); err != nil {
			return err
		}
		n -= 4 + size
	}
	return nil
}

// tfhd flags beyond those moof.go reads.
const (
	tfhdDefaultSize  = 0x10
	tfhdDefaultFlags = 0x20
)

// traf reads one track fragment of the moof b and the ranges of its samples.
func (sc *segScanner) traf(b []byte, traf box) (ScannedTraf, []sampleRange, error) {
	t := ScannedTraf{}
	var defDur, defSize, defFlags uint32
	haveTfhd, haveTfdt := false, false
	var truns []box
	err := children(b, traf.body, traf.end, func(c box) error {
		n := c.end - c.body
		switch c.typ {
		case "tfhd":
			if n < 8 || haveTfhd {
				return ErrMalformed
			}
			flags := binary.BigEndian.Uint32(b[c.body:]) & 0xffffff
			t.TrackID = binary.BigEndian.Uint32(b[c.body+4:])
			if flags&tfhdBaseDataOffset != 0 || flags&tfhdDefaultBaseIsMoof == 0 {
				return fmt.Errorf("%w: track %d: data offsets not relative to the moof", ErrMalformed, t.TrackID)
			}
			p := c.body + 8
			if flags&tfhdSampleDescIndex != 0 {
				p += 4
			}
			for _, f := range []struct {
				bit uint32
				v   *uint32
			}{{tfhdDefaultDuration, &defDur}, {tfhdDefaultSize, &defSize}, {tfhdDefaultFlags, &defFlags}} {
				if flags&f.bit != 0 {
					if p+4 > c.end {
						return ErrMalformed
					}
					*f.v = binary.BigEndian.Uint32(b[p:])
					p += 4
				}
			}
			haveTfhd = true
		case "tfdt":
			if n < 8 || haveTfdt {
				return ErrMalformed
			}
			if b[c.body] == 1 {
				if n < 12 {
					return ErrMalformed
				}
				t.Base = binary.BigEndian.Uint64(b[c.body+4:])
			} else {
				t.Base = uint64(binary.BigEndian.Uint32(b[c.body+4:]))
			}
			haveTfdt = true
		case "trun":
			truns = append(truns, c)
		}
		return nil
	})
	switch {
	case err != nil:
		return t, nil, err
	case !haveTfhd:
		return t, nil, fmt.Errorf("%w: traf without tfhd", ErrMalformed)
	case !haveTfdt:
		return t, nil, fmt.Errorf("%w: track %d: traf without tfdt", ErrMalformed, t.TrackID)
	case len(truns) == 0:
		return t, nil, fmt.Errorf("%w: track %d: traf without trun", ErrMalformed, t.TrackID)
	}
	if _, ok := sc.lp[t.TrackID]; !ok {
		return t, nil, fmt.Errorf("%w: track %d is not in the init segment", ErrMalformed, t.TrackID)
	}
	var out []sampleRange
	for _, c := range truns {
		flags, count, p, per, err := trunLayoutOf(b, c)
		if err != nil {
			return t, nil, err
		}
		if flags&trunDataOffsetPresent == 0 {
			return t, nil, fmt.Errorf("%w: track %d: trun without data offset", ErrMalformed, t.TrackID)
		}
		off := int64(int32(binary.BigEndian.Uint32(b[c.body+8:])))
		first := defFlags
		if flags&trunFirstSampleFlagsPresent != 0 {
			first = binary.BigEndian.Uint32(b[c.body+12:])
		}
		for i := range count {
			e := p
			dur, size, sflags := defDur, defSize, defFlags
			if i == 0 {
				sflags = first
			}
			if flags&trunDurationPresent != 0 {
				dur = binary.BigEndian.Uint32(b[e:])
				e += 4
			}
			if flags&trunSizePresent != 0 {
				size = binary.BigEndian.Uint32(b[e:])
				e += 4
			}
			if flags&trunFlagsPresent != 0 {
				sflags = binary.BigEndian.Uint32(b[e:])
			}
			if t.Samples == 0 {
				t.FirstSync = sflags&sampleIsNonSync == 0
			}
			t.Samples++
			t.Dur += uint64(dur)
			if size > 0 {
				out = append(out, sampleRange{off: off, size: int64(size), track: t.TrackID})
			}
			off += int64(size)
			p += per
		}
	}
	return t, out, nil
}

// ReadInit reads an init segment (an ftyp box, then a moov box) from the
// start of a stream, at most max bytes of it, and returns its bytes: the
// stream is left at the first byte after the moov.
func ReadInit(r io.Reader, max int64) ([]byte, error) {
	var out []byte
	for _, want := range []string{"ftyp", "moov"} {
		var buf [16]byte
		h, hdr, err := ReadHeader(r, buf[:])
		if err != nil {
			return nil, fmt.Errorf("%w: reading the %s box: %w", ErrMalformed, want, err)
		}
		if h.Type != want {
			return nil, fmt.Errorf("%w: %q box, want %s", ErrMalformed, h.Type, want)
		}
		if int64(len(out))+h.Size > max {
			return nil, fmt.Errorf("%w: init segment over %d bytes", ErrMalformed, max)
		}
		out = append(out, hdr...)
		body := make([]byte, h.Size-int64(len(hdr)))
		if _, err := io.ReadFull(r, body); err != nil {
			return nil, fmt.Errorf("%w: %s box: %w", ErrTruncated, want, err)
		}
		out = append(out, body...)
	}
	return out, nil
}
