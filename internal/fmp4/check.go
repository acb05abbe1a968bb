package fmp4

import (
	"fmt"
	"io"
)

// CheckFragment reports whether [off, off+size) of r holds exactly one moof
// box followed by one mdat box. Spool recovery uses it to keep only whole
// fragments.
func CheckFragment(r io.ReaderAt, off, size int64) error {
	end := off + size
	if size <= 0 || end < off {
		return fmt.Errorf("fragment at %d: bad size %d", off, size)
	}
	moof, err := ReadHeaderAt(r, off, end)
	if err != nil {
		return err
	}
	if moof.Type != "moof" {
		return fmt.Errorf("fragment at %d starts with %q, not moof", off, moof.Type)
	}
	mdat, err := ReadHeaderAt(r, off+moof.Size, end)
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

// ScanFragments walks the top-level boxes of a fragment stream (moof+mdat
// pairs) from the start and returns the offsets and sizes of the complete
// pairs, stopping at the first torn or unexpected box.
func ScanFragments(r io.ReaderAt, end int64) (offs, sizes []int64) {
	var off int64
	for off < end {
		moof, err := ReadHeaderAt(r, off, end)
		if err != nil || moof.Type != "moof" {
			return
		}
		mdat, err := ReadHeaderAt(r, off+moof.Size, end)
		if err != nil || mdat.Type != "mdat" {
			return
		}
		offs = append(offs, off)
		sizes = append(sizes, moof.Size+mdat.Size)
		off += moof.Size + mdat.Size
	}
	return
}
