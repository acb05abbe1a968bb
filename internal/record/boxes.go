package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// boxHeader is the header of one top-level ISO BMFF box.
type boxHeader struct {
	Type string
	Size int64 // whole box, header included
}

// errTruncated reports a box that runs past the end of the data.
var errTruncated = errors.New("truncated box")

// readBoxHeader reads the box header at off in r, whose data ends at end.
// It understands 64-bit sizes and size 0 ("to the end"), and rejects boxes
// that are too small or run past end. Recovery uses it to check that each
// spooled fragment is a complete moof box followed by a complete mdat box.
func readBoxHeader(r io.ReaderAt, off, end int64) (boxHeader, error) {
	if off < 0 || end-off < 8 {
		return boxHeader{}, errTruncated
	}
	var b [16]byte
	if _, err := r.ReadAt(b[:8], off); err != nil {
		return boxHeader{}, fmt.Errorf("reading box header at %d: %w", off, err)
	}
	h := boxHeader{Type: string(b[4:8])}
	size := int64(binary.BigEndian.Uint32(b[:4]))
	hdr := int64(8)
	switch size {
	case 0:
		size = end - off
	case 1:
		if end-off < 16 {
			return boxHeader{}, errTruncated
		}
		if _, err := r.ReadAt(b[8:16], off+8); err != nil {
			return boxHeader{}, fmt.Errorf("reading box header at %d: %w", off, err)
		}
		u := binary.BigEndian.Uint64(b[8:16])
		if u > uint64(end-off) {
			return boxHeader{}, errTruncated
		}
		size = int64(u)
		hdr = 16
	}
	if size < hdr {
		return boxHeader{}, fmt.Errorf("box %q at %d: size %d is smaller than its header", h.Type, off, size)
	}
	if size > end-off {
		return boxHeader{}, errTruncated
	}
	h.Size = size
	return h, nil
}

// checkFragment reports whether [off, off+size) of r holds exactly one moof
// box followed by one mdat box.
func checkFragment(r io.ReaderAt, off, size int64) error {
	end := off + size
	if size <= 0 || end < off {
		return fmt.Errorf("fragment at %d: bad size %d", off, size)
	}
	moof, err := readBoxHeader(r, off, end)
	if err != nil {
		return err
	}
	if moof.Type != "moof" {
		return fmt.Errorf("fragment at %d starts with %q, not moof", off, moof.Type)
	}
	mdat, err := readBoxHeader(r, off+moof.Size, end)
	if err != nil {
		return err
	}
	if mdat.Type != "mdat" {
		return fmt.Errorf("fragment at %d: %q after moof, not mdat", off, mdat.Type)
	}
	if moof.Size+mdat.Size != size {
		return fmt.Errorf("fragment at %d: boxes span %d bytes, not %d", off, moof.Size+mdat.Size, size)
	}
	return nil
}

// scanFragments walks the top-level boxes of a fragment stream (moof+mdat
// pairs) from the start and returns the offsets and sizes of the complete
// pairs, stopping at the first torn or unexpected box.
func scanFragments(r io.ReaderAt, end int64) (offs, sizes []int64) {
	var off int64
	for off < end {
		moof, err := readBoxHeader(r, off, end)
		if err != nil || moof.Type != "moof" {
			return
		}
		mdat, err := readBoxHeader(r, off+moof.Size, end)
		if err != nil || mdat.Type != "mdat" {
			return
		}
		offs = append(offs, off)
		sizes = append(sizes, moof.Size+mdat.Size)
		off += moof.Size + mdat.Size
	}
	return
}
