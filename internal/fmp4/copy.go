package fmp4

import (
	"fmt"
	"io"
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
	if err := rewrite(b); err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return err
	}
	mdat, hdr, err := c.header(src, "mdat")
	if err != nil {
		return err
	}
	if moof.Size+mdat.Size != size {
		return fmt.Errorf("%w: fragment boxes span %d bytes, the index says %d", ErrMalformed, moof.Size+mdat.Size, size)
	}
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	_, err = io.CopyN(w, src, mdat.Size-int64(len(hdr)))
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
