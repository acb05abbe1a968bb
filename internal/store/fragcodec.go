package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// The fragment list of a segment is stored as one small binary value:
//
//	version byte (1), uvarint count, then per fragment:
//	uvarint flags (bit 0: keyframe), varint offset delta, varint size,
//	varint start delta, varint duration
//
// Offsets and starts are deltas from where the previous fragment ended, so
// contiguous fragments cost one byte each for them; durations are exact
// nanoseconds. A fragment of 1 s and 150 kB takes 11 bytes, against about
// 60 in JSON.
const fragVersion = 1

// MaxFragments bounds the fragments of one segment.
const MaxFragments = 100_000

// minFragBytes is the smallest encoding of one fragment (five one-byte
// varints), used to reject counts the input cannot hold before allocating.
const minFragBytes = 5

// encodeFragments returns the stored form of frags; nil for none.
func encodeFragments(frags []Fragment) ([]byte, error) {
	if len(frags) == 0 {
		return nil, nil
	}
	if len(frags) > MaxFragments {
		return nil, fmt.Errorf("store: %d fragments in one segment, at most %d", len(frags), MaxFragments)
	}
	b := make([]byte, 0, 2+len(frags)*10)
	b = append(b, fragVersion)
	b = binary.AppendUvarint(b, uint64(len(frags)))
	var nextOff, nextStart int64
	for _, f := range frags {
		var flags uint64
		if f.Key {
			flags = 1
		}
		b = binary.AppendUvarint(b, flags)
		b = binary.AppendVarint(b, f.Offset-nextOff)
		b = binary.AppendVarint(b, f.Size)
		b = binary.AppendVarint(b, int64(f.Start)-nextStart)
		b = binary.AppendVarint(b, int64(f.Duration))
		nextOff = f.Offset + f.Size
		nextStart = int64(f.Start) + int64(f.Duration)
	}
	return b, nil
}

// errBadFragments reports a stored fragment list that cannot be decoded.
var errBadFragments = errors.New("store: corrupt fragment list")

// decodeFragments parses what encodeFragments wrote. It never panics and
// allocates at most in proportion to len(b).
func decodeFragments(b []byte) ([]Fragment, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if b[0] != fragVersion {
		return nil, fmt.Errorf("%w: unknown version %d", errBadFragments, b[0])
	}
	b = b[1:]
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, fmt.Errorf("%w: bad count", errBadFragments)
	}
	b = b[k:]
	if n == 0 || n > MaxFragments || n > uint64(len(b)/minFragBytes) {
		return nil, fmt.Errorf("%w: count %d does not fit", errBadFragments, n)
	}
	frags := make([]Fragment, n)
	var nextOff, nextStart int64
	for i := range frags {
		flags, k := binary.Uvarint(b)
		if k <= 0 || flags > 1 {
			return nil, fmt.Errorf("%w: fragment %d: bad flags", errBadFragments, i)
		}
		b = b[k:]
		var v [4]int64
		for j := range v {
			v[j], k = binary.Varint(b)
			if k <= 0 {
				return nil, fmt.Errorf("%w: fragment %d: truncated", errBadFragments, i)
			}
			b = b[k:]
		}
		f := Fragment{
			Offset:   nextOff + v[0],
			Size:     v[1],
			Start:    time.Duration(nextStart + v[2]),
			Duration: time.Duration(v[3]),
			Key:      flags == 1,
		}
		frags[i] = f
		nextOff = f.Offset + f.Size
		nextStart = int64(f.Start) + int64(f.Duration)
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errBadFragments, len(b))
	}
	return frags, nil
}
