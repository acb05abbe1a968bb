package usage

import (
	"io"
	"net/http"
)

// Writer counts the body bytes of an HTTP response as egress of one kind.
// It keeps the writer's optional interfaces that serving media relies on
// (Flush, ReadFrom for sendfile) and unwraps for http.ResponseController.
type Writer struct {
	http.ResponseWriter
	c    *Counter
	kind Kind
}

// CountWriter wraps w so that its body bytes count as kind on c; with c
// nil (metering off) it returns w itself.
func CountWriter(w http.ResponseWriter, c *Counter, kind Kind) http.ResponseWriter {
	if c == nil {
		return w
	}
	return &Writer{ResponseWriter: w, c: c, kind: kind}
}

// Write counts b before writing it (then takes back what was not
// written), so that a client never holds bytes not yet counted: a flush
// right after it read the answer has them.
func (w *Writer) Write(b []byte) (int, error) {
	w.c.Add(w.kind, int64(len(b)))
	n, err := w.ResponseWriter.Write(b)
	w.c.Add(w.kind, int64(n-len(b)))
	return n, err
}

// ReadFrom copies from r through the wrapped writer's ReadFrom when it has
// one (sendfile), counting what was copied.
func (w *Writer) ReadFrom(r io.Reader) (int64, error) {
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(struct{ io.Writer }{w.ResponseWriter}, r)
	}
	w.c.Add(w.kind, n)
	return n, err
}

// Flush flushes the wrapped writer when it can.
func (w *Writer) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap is the wrapped writer (http.ResponseController).
func (w *Writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
