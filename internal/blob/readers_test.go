package blob

import (
	"bytes"
	"io"
	"testing"
)

// TestIgnoredRange covers servers that answer a Range request with the
// whole object: the range must still be cut out of the body.
func TestIgnoredRange(t *testing.T) {
	data := pattern(5, 100)
	cases := []struct {
		offset, length int64
		want           []byte
	}{
		{10, 20, data[10:30]},
		{90, -1, data[90:]},
		{95, 50, data[95:]},
		{200, 5, nil},
	}
	for _, c := range cases {
		rc, err := ignoredRange(io.NopCloser(bytes.NewReader(data)), c.offset, c.length)
		if got := readAll(t, rc, err); !bytes.Equal(got, c.want) {
			t.Errorf("ignoredRange(%d, %d) = %d bytes, want %d", c.offset, c.length, len(got), len(c.want))
		}
	}
}
