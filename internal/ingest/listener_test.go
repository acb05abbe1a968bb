package ingest

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// countingConn is a net.Conn over a reader that counts Read calls.
type countingConn struct {
	net.Conn
	r     io.Reader
	reads int
}

func (c *countingConn) Read(p []byte) (int, error) {
	c.reads++
	return c.r.Read(p)
}

func TestGateConnReadAhead(t *testing.T) {
	data := make([]byte, 3*readAhead+123)
	for i := range data {
		data[i] = byte(i * 7)
	}
	cases := []struct {
		name  string
		chunk int // size of each read the caller makes
	}{
		{"bufio-sized reads", 4096},
		{"tiny reads", 13},
		{"reads larger than the buffer", 2 * readAhead},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			under := &countingConn{r: bytes.NewReader(data)}
			gc := &gateConn{Conn: under, release: func() {}}
			var got []byte
			p := make([]byte, c.chunk)
			for {
				n, err := gc.Read(p)
				got = append(got, p[:n]...)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("read %d bytes that differ from the %d sent", len(got), len(data))
			}
			// Each read of the connection takes up to readAhead bytes (plus the
			// final read that sees EOF), however small the caller's reads.
			if max := len(data)/readAhead + 2; under.reads > max {
				t.Fatalf("%d reads of the connection, want at most %d", under.reads, max)
			}
		})
	}
}

func TestGateConnReadAheadKeepsDeadlineErrors(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	gc := &gateConn{Conn: a, release: func() {}}
	go b.Write([]byte("hello"))
	p := make([]byte, 2)
	if n, err := gc.Read(p); err != nil || string(p[:n]) != "he" {
		t.Fatalf("first read: %q, %v", p[:n], err)
	}
	if n, err := gc.Read(p); err != nil || string(p[:n]) != "ll" {
		t.Fatalf("buffered read: %q, %v", p[:n], err)
	}
	if n, _ := gc.Read(p); string(p[:n]) != "o" {
		t.Fatalf("last buffered read: %q", p[:n])
	}
	gc.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	var ne net.Error
	if _, err := gc.Read(p); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read past the deadline: %v, want a timeout", err)
	}
}
