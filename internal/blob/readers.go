package blob

import (
	"context"
	"io"
)

// ctxReader stops a copy as soon as its context is done, so a cancelled Put
// does not keep draining a slow source.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

// Read reads from the wrapped reader unless the context is done.
func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// readCloser joins a reader to the closer of what it reads from.
type readCloser struct {
	io.Reader
	io.Closer
}

// emptyObject is what a range wholly past the end of an object reads as.
func emptyObject() io.ReadCloser { return io.NopCloser(eofReader{}) }

// eofReader is always at its end.
type eofReader struct{}

// Read returns io.EOF.
func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
