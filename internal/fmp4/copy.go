package fmp4

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// Copier copies fragments (moof+mdat pairs) from a stream, letting a
// function rewrite each moof box in place first; the mdat is copied
// through. Its buffers are reused from fragment to fragment.
type Copier struct {
	moof []byte
	hdr  [16]byte
}

// Copy copies one fragment of size bytes (what the index says) from src to
// w, passing its moof box to rewrite before writing it. A fragment that is
// not one moof then one mdat spanning size bytes is an error.
func (c *Copier) Copy(w io.Writer, src io.Reader, size int64, rewrite func(moof []byte) error) error {
	return c.CopyCut(w, src, size, func(moof []byte) (int, error) { return len(moof), rewrite(moof) })
}

// CopyCut is Copy with a rewrite that may shorten the moof box (see Trim):
// it returns the moof's new length n, and the mdat then starts that much
// earlier, its first len(moof)-n bytes zero padding that no sample
// references (trun data offsets count from the moof's start, which does
// not move), so the fragment keeps its size and its samples their place.
func (c *Copier) CopyCut(w io.Writer, src io.Reader, size int64, rewrite func(moof []byte) (int, error)) error {
	moof, hdr, err := c.header(src, "moof")
	if err != nil {
		return err
	}
	if moof.Size > MaxMoof || moof.Size >= size {
		return fmt.Errorf("%w: moof of %d bytes in a fragment of %d", ErrMalformed, moof.Size, size)
	}
	if int64(cap(c.moof)) < moof.Size {
		c.moof = make([]byte, moof.Size)
	}
	b := c.moof[:moof.Size]
	n := copy(b, hdr)
	if _, err := io.ReadFull(src, b[n:]); err != nil {
		return err
	}
	n, err = rewrite(b)
	if err != nil {
		return err
	}
	if n < 0 || n > len(b) {
		return fmt.Errorf("fmp4: moof rewritten to %d bytes from %d", n, len(b))
	}
	if _, err := w.Write(b[:n]); err != nil {
		return err
	}
	mdat, hdr, err := c.header(src, "mdat")
	if err != nil {
		return err
	}
	if moof.Size+mdat.Size != size {
		return fmt.Errorf("%w: fragment boxes span %d bytes, the index says %d", ErrMalformed, moof.Size+mdat.Size, size)
	}
	if pad := len(b) - n; pad > 0 {
		if err := writeMdatPadding(w, hdr, mdat.Size+int64(pad), pad); err != nil {
			return err
		}
	} else if _, err := w.Write(hdr); err != nil {
		return err
	}
	_, err = io.CopyN(w, src, mdat.Size-int64(len(hdr)))
	return err
}

// writeMdatPadding writes an mdat header like hdr (same length) for a box of
// size bytes, then pad zero bytes.
func writeMdatPadding(w io.Writer, hdr []byte, size int64, pad int) error {
	h := make([]byte, len(hdr)+pad)
	copy(h, hdr)
	if len(hdr) == 16 {
		binary.BigEndian.PutUint64(h[8:], uint64(size))
	} else if size > math.MaxUint32 {
		return fmt.Errorf("%w: mdat of %d bytes in a 32-bit header", ErrMalformed, size)
	} else {
		binary.BigEndian.PutUint32(h, uint32(size))
	}
	_, err := w.Write(h)
	return err
}

// header reads the header of a box of the wanted type from src.
func (c *Copier) header(src io.Reader, want string) (Header, []byte, error) {
	h, hdr, err := ReadHeader(src, c.hdr[:])
	if err != nil {
		return h, nil, err
	}
	if h.Type != want {
		return h, nil, fmt.Errorf("%w: found %q where %s was expected", ErrMalformed, h.Type, want)
	}
	return h, hdr, nil
}
