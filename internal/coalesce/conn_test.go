package coalesce

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/testenv"
)

// frame is an RTSP interleaved frame on channel ch with an n-byte payload
// whose bytes are seq.
func frame(ch byte, n int, seq byte) []byte {
	p := []byte{'$', ch, byte(n >> 8), byte(n)}
	return append(p, bytes.Repeat([]byte{seq}, n)...)
}

// readN reads exactly n bytes from c within d.
func readN(t *testing.T, c net.Conn, n int, d time.Duration) []byte {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("reading %d bytes: %v", n, err)
	}
	return b
}

func TestWrites(t *testing.T) {
	cases := []struct {
		name        string
		writes      [][]byte
		window      time.Duration
		limit       int
		wantFlushes int64
	}{
		// The window is an hour: what arrives was sent by a flush, not a timer.
		{"an RTSP request sends the RTP packets before it", [][]byte{frame(0, 1400, 1), frame(2, 200, 2), frame(0, 1400, 3), []byte("TEARDOWN rtsp://x/ RTSP/1.0\r\nCSeq: 5\r\n\r\n")}, time.Hour, 0, 1},
		{"an RTCP packet is sent at once", [][]byte{frame(0, 100, 1), frame(1, 28, 2)}, time.Hour, 0, 1},
		{"the limit sends a burst", [][]byte{frame(0, 1400, 1), frame(0, 1400, 2), frame(0, 1400, 3), frame(0, 1400, 4), frame(1, 28, 5)}, time.Hour, 2000, 3},
		{"a write past the buffer's room", [][]byte{frame(0, 900, 1), frame(0, 6000, 2), frame(0, 900, 3), frame(1, 28, 4)}, time.Hour, 1000, 2},
		{"the window sends what waits", [][]byte{frame(0, 1400, 1), frame(2, 300, 2)}, 20 * time.Millisecond, 0, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			client, server := testenv.TCPPair(t)
			w := Wrap(client, tc.window, NewBuffers(tc.limit))
			var want []byte
			for _, p := range tc.writes {
				if n, err := w.Write(p); err != nil || n != len(p) {
					t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(p))
				}
				want = append(want, p...)
			}
			got := readN(t, server, len(want), 10*time.Second)
			if !bytes.Equal(got, want) {
				t.Fatal("the peer read other bytes than were written, or in another order")
			}
			writes, flushes := w.Stats()
			if writes != int64(len(tc.writes)) || flushes != tc.wantFlushes {
				t.Fatalf("writes %d, system writes %d; want %d, %d", writes, flushes, len(tc.writes), tc.wantFlushes)
			}
		})
	}
}

// A video frame's packets, written in a burst, reach the connection in one
// write; the writer's buffer (reused by the RTSP library) may change after
// Write returns.
func TestBurstIsOneWrite(t *testing.T) {
	client, server := testenv.TCPPair(t)
	w := Wrap(client, 50*time.Millisecond, nil)
	buf := make([]byte, 0, 2000)
	var want []byte
	for i := range 20 {
		buf = append(buf[:0], frame(0, 1400, byte(i))...)
		if _, err := w.Write(buf); err != nil {
			t.Fatal(err)
		}
		want = append(want, frame(0, 1400, byte(i))...)
		clear(buf)
	}
	if got := readN(t, server, len(want), 10*time.Second); !bytes.Equal(got, want) {
		t.Fatal("the peer read other bytes than were written")
	}
	if _, flushes := w.Stats(); flushes > 1 {
		t.Fatalf("%d system writes for a burst inside the window; want 1 ", flushes)
	}
}

// A failed write is reported by the next Write and closes the connection.
func TestWriteFailure(t *testing.T) {
	client, server := testenv.TCPPair(t)
	w := Wrap(client, time.Millisecond, nil)
	server.Close()
	var err error
	for range 1000 { // the first writes may land in the kernel's buffer before the reset comes back
		if _, err = w.Write(frame(1, 100, 1)); err != nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err == nil {
		t.Fatal("writes to a closed peer never failed")
	}
	if _, err := w.Write(frame(0, 10, 2)); err == nil {
		t.Fatal("a write after a failure succeeded")
	}
	if _, err := client.Write([]byte{1}); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("the connection was not closed after a failed write: %v", err)
	}
}

// Close ends a write stalled on a peer that does not read, rather than
// waiting for its deadline.
func TestCloseEndsStalledWrite(t *testing.T) {
	client, _ := testenv.TCPPair(t) // the server never reads
	w := Wrap(client, time.Millisecond, nil)
	_ = w.SetWriteDeadline(time.Now().Add(time.Hour))
	stalled := make(chan error, 1)
	go func() {
		for {
			if _, err := w.Write(frame(1, 60000, 1)); err != nil {
				stalled <- err
				return
			}
		}
	}()
	time.Sleep(200 * time.Millisecond) // kernel buffers full: a write blocks
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case <-stalled:
	case <-time.After(30 * time.Second):
		t.Fatal("the stalled write did not end after Close")
	}
}

// The write deadline asked for applies to the gathered write.
func TestWriteDeadline(t *testing.T) {
	client, _ := testenv.TCPPair(t)
	w := Wrap(client, time.Hour, nil)
	_ = w.SetWriteDeadline(time.Now().Add(-time.Second))
	_, err := w.Write(frame(1, 10, 1))
	if ne := net.Error(nil); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Write with a past deadline = %v; want a timeout", err)
	}
}

// Flush sends what waits at once, in one write, without the window; with
// nothing waiting it writes nothing, and after a failure it says so.
func TestFlush(t *testing.T) {
	client, server := testenv.TCPPair(t)
	w := Wrap(client, time.Hour, nil)
	if err := w.Flush(); err != nil {
		t.Fatalf("Flush with nothing gathered: %v", err)
	}
	var want []byte
	for i := range 3 {
		p := frame(0, 1000, byte(i))
		if _, err := w.Write(p); err != nil {
			t.Fatal(err)
		}
		want = append(want, p...)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, server, len(want), 10*time.Second); !bytes.Equal(got, want) {
		t.Fatal("the peer read other bytes than were written")
	}
	if writes, flushes := w.Stats(); writes != 3 || flushes != 1 {
		t.Fatalf("writes %d, system writes %d; want 3, 1", writes, flushes)
	}
	_ = server.Close()
	_ = client.Close() // the next system write fails
	if _, err := w.Write(frame(0, 10, 9)); err != nil {
		t.Fatalf("a gathered write reports nothing yet: %v", err)
	}
	if err := w.Flush(); err == nil {
		t.Fatal("Flush on a closed connection reported no error")
	}
	if err := w.Flush(); err == nil {
		t.Fatal("a Flush after a failed one reported no error")
	}
}
