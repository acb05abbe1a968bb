package blob

import (
	"context"
	"errors"
	"io"
)

// RangeGetter is what a Seeker reads through: a Store, or any reader of
// object ranges.
type RangeGetter interface {
	GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
}

// Seeker is an io.ReadSeeker over a stored object of known size, for
// http.ServeContent (Range requests): a read opens the object at the
// current position, a seek elsewhere closes it. Close it when done.
type Seeker struct {
	ctx  context.Context
	st   RangeGetter
	key  string
	size int64
	pos  int64
	rc   io.ReadCloser
}

// NewSeeker returns a Seeker over the size bytes of key in st.
func NewSeeker(ctx context.Context, st RangeGetter, key string, size int64) *Seeker {
	return &Seeker{ctx: ctx, st: st, key: key, size: size}
}

// Read reads from the current position, opening the object there if needed.
func (b *Seeker) Read(p []byte) (int, error) {
	if b.pos >= b.size {
		return 0, io.EOF
	}
	if b.rc == nil {
		rc, err := b.st.GetRange(b.ctx, b.key, b.pos, b.size-b.pos)
		if err != nil {
			return 0, err
		}
		b.rc = rc
	}
	n, err := b.rc.Read(p)
	b.pos += int64(n)
	return n, err
}

// Seek moves the position; the open read, if any, is closed.
func (b *Seeker) Seek(off int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = off
	case io.SeekCurrent:
		abs = b.pos + off
	case io.SeekEnd:
		abs = b.size + off
	default:
		return 0, errors.New("blob: bad whence")
	}
	if abs < 0 {
		return 0, errors.New("blob: negative position")
	}
	if abs != b.pos {
		_ = b.Close()
		b.pos = abs
	}
	return abs, nil
}

// Close closes the open read, if any.
func (b *Seeker) Close() error {
	if b.rc == nil {
		return nil
	}
	err := b.rc.Close()
	b.rc = nil
	return err
}
