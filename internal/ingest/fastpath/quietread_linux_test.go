package fastpath

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/testenv"
)

// rcvlowat reads the socket's SO_RCVLOWAT.
func rcvlowat(t *testing.T, c *net.TCPConn) int {
	t.Helper()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	if err := raw.Control(func(fd uintptr) {
		v, gerr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVLOWAT)
	}); err != nil || gerr != nil {
		t.Fatal(err, gerr)
	}
	return v
}

// TestQuietReader: once batched, a TCP connection's socket keeps a high
// low-water mark (so that arriving bursts do not wake the netpoller), all
// bytes still arrive in order, a small message after a pause is not held
// back by the mark, and the end of the stream is seen.
func TestQuietReader(t *testing.T) {
	client, srv := testenv.TCPPair(t)
	tc := srv.(*net.TCPConn)
	bc := newBatchConn(srv, 20*time.Millisecond, NewBuffers())
	defer bc.Close()
	if bc.quiet == nil {
		t.Fatal("no quiet reader for a TCP connection")
	}
	bc.SetReadDeadline(time.Now().Add(20 * time.Second))

	sent := make([]byte, batchAfter+50*1000)
	for i := range sent {
		sent[i] = byte(i * 31)
	}
	go func() {
		client.Write(sent[:batchAfter])
		for off := batchAfter; off < len(sent); off += 1000 {
			client.Write(sent[off : off+1000])
			time.Sleep(2 * time.Millisecond)
		}
	}()
	// Read as the protocol libraries do, through a 4 KiB bufio.Reader.
	br := bufio.NewReaderSize(bc, 4096)
	got := make([]byte, len(sent))
	if _, err := io.ReadFull(br, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, sent) {
		t.Fatal("bytes differ")
	}
	if v := rcvlowat(t, tc); v != quietLowat {
		t.Errorf("SO_RCVLOWAT %d while batched, want %d", v, quietLowat)
	}

	// A pause, then a message far below the mark: it must still arrive.
	time.Sleep(100 * time.Millisecond)
	go client.Write([]byte("TEARDOWN"))
	msg := make([]byte, 8)
	start := time.Now()
	if _, err := io.ReadFull(br, msg); err != nil || string(msg) != "TEARDOWN" {
		t.Fatalf("small message after a pause: %q, %v", msg, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("small message took %v", d)
	}

	// A deadline still ends a wait, and the end of the stream is EOF.
	bc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	var ne net.Error
	if _, err := bc.Read(msg); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read past the deadline: %v, want a timeout", err)
	}
	bc.SetReadDeadline(time.Now().Add(5 * time.Second))
	client.Close()
	if _, err := bc.Read(msg); !errors.Is(err, io.EOF) {
		t.Fatalf("read after the peer closed: %v, want EOF", err)
	}
}

// A quiet read of a socket that has data allocates nothing: it runs about
// ten times a second for every camera.
func TestQuietReadDoesNotAllocate(t *testing.T) {
	client, srv := testenv.TCPPair(t)
	q := newQuietReader(srv)
	if q == nil {
		t.Fatal("no quiet reader for a TCP connection")
	}
	msg := make([]byte, 1000)
	buf := make([]byte, 4096)
	allocs := testing.AllocsPerRun(50, func() {
		if _, err := client.Write(msg); err != nil {
			t.Fatal(err)
		}
		got := 0
		for got < len(msg) {
			n, err := q.read(buf)
			if err != nil {
				t.Fatal(err)
			}
			got += n
		}
	})
	if allocs > 0 {
		t.Errorf("%.1f allocations per quiet read, want 0", allocs)
	}
}
