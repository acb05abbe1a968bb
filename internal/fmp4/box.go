// Package fmp4 writes, reads and rewrites the ISO BMFF boxes of fragmented
// MP4 for the recorder and playback: the one box parser of the tree.
//
// The recorder writes fragments (moof+mdat) by hand (fragment.go) without
// copying sample payloads, laid out exactly as mediacommon's fmp4.Part
// does (a test checks the bytes), and init segments with mediacommon
// (init.go). Spool recovery checks that spooled fragments are whole
// (check.go). Clip export reads each moof, rewrites its sequence number and
// decode times in place and copies the mdat through (moof.go, copy.go).
package fmp4

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// BoxHeaderSize is the size of a box header with a 32-bit size.
const BoxHeaderSize = 8

// Errors of the box readers: a box that runs past the data it is in, and
// one that cannot be right whatever follows.
var (
	ErrTruncated = errors.New("fmp4: truncated box")
	ErrMalformed = errors.New("fmp4: malformed box")
)

// Header is the header of one box.
type Header struct {
	Type string
	Size int64 // the whole box, header included
	Len  int   // header bytes: 8, or 16 with a 64-bit size
}

// ParseHeader decodes a box header from the box's first bytes b (8 of
// them, or 16 when the size field is 1: a 64-bit size). avail is how many
// bytes the box may span, from its start to the end of what contains it;
// a box of size 0 spans them all ("to the end"). avail < 0 means unknown
// (a stream), where size 0 is refused. It rejects boxes smaller than their
// header and boxes past avail.
func ParseHeader(b []byte, avail int64) (Header, error) {
	if len(b) < BoxHeaderSize || (avail >= 0 && avail < BoxHeaderSize) {
		return Header{}, ErrTruncated
	}
	h := Header{Type: string(b[4:8]), Len: BoxHeaderSize}
	size := uint64(binary.BigEndian.Uint32(b))
	switch size {
	case 0:
		if avail < 0 {
			return Header{}, fmt.Errorf("%w: %q box of size 0 in a stream", ErrMalformed, h.Type)
		}
		size = uint64(avail)
	case 1:
		if len(b) < 16 || (avail >= 0 && avail < 16) {
			return Header{}, ErrTruncated
		}
		size = binary.BigEndian.Uint64(b[8:16])
		h.Len = 16
	}
	if avail >= 0 && size > uint64(avail) {
		return Header{}, ErrTruncated
	}
	if size < uint64(h.Len) || size > math.MaxInt64/2 {
		return Header{}, fmt.Errorf("%w: %q box of size %d", ErrMalformed, h.Type, size)
	}
	h.Size = int64(size)
	return h, nil
}

// hasLargeSize reports whether the header starting with b[:4] is followed by
// a 64-bit size.
func hasLargeSize(b []byte) bool { return binary.BigEndian.Uint32(b) == 1 }

// ReadHeaderAt reads the header of the box at off in r, whose data (or the
// box's container) ends at end.
func ReadHeaderAt(r io.ReaderAt, off, end int64) (Header, error) {
	if off < 0 || end-off < BoxHeaderSize {
		return Header{}, ErrTruncated
	}
	var b [16]byte
	n := BoxHeaderSize
	if _, err := r.ReadAt(b[:n], off); err != nil {
		return Header{}, fmt.Errorf("reading box header at %d: %w", off, err)
	}
	if hasLargeSize(b[:]) && end-off >= 16 {
		n = 16
		if _, err := r.ReadAt(b[8:n], off+8); err != nil {
			return Header{}, fmt.Errorf("reading box header at %d: %w", off, err)
		}
	}
	return ParseHeader(b[:n], end-off)
}

// ReadHeader reads a box header from a stream into buf (16 bytes at least)
// and returns it with the header bytes read (a prefix of buf).
func ReadHeader(r io.Reader, buf []byte) (Header, []byte, error) {
	b := buf[:BoxHeaderSize]
	if _, err := io.ReadFull(r, b); err != nil {
		return Header{}, nil, err
	}
	if hasLargeSize(b) {
		b = buf[:16]
		if _, err := io.ReadFull(r, b[8:]); err != nil {
			return Header{}, nil, err
		}
	}
	h, err := ParseHeader(b, -1)
	return h, b, err
}

// box is one box inside a byte slice: its type and where it lies.
type box struct {
	typ        string
	start, end int // the whole box
	body       int // the first byte after its header
}

// boxAt reads the box at off within b[:end].
func boxAt(b []byte, off, end int) (box, error) {
	if end > len(b) || off < 0 || off > end {
		return box{}, ErrTruncated
	}
	h, err := ParseHeader(b[off:end], int64(end-off))
	if err != nil {
		return box{}, err
	}
	return box{typ: h.Type, start: off, end: off + int(h.Size), body: off + h.Len}, nil
}

// children calls fn with each box inside b[off:end].
func children(b []byte, off, end int, fn func(box) error) error {
	for off < end {
		bx, err := boxAt(b, off, end)
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
