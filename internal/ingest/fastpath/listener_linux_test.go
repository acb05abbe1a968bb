package fastpath

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/netlimit"
)

// TestListenerUnderNetlimit: the connections of a netlimit listener,
// which wrap their socket, are still read quietly through the socket's
// descriptor once batched, and closing one frees its place in the
// listener's counts.
func TestListenerUnderNetlimit(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lim := netlimit.Listen(raw, netlimit.Limits{Max: 1})
	ln := NewListener(lim, ListenConfig{FirstRead: 10 * time.Second, Batch: 20 * time.Millisecond, SplitRTSP: true})
	defer ln.Close()
	client, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	bc := c.(*batchConn)
	if _, ok := bc.Conn.(*net.TCPConn); ok {
		t.Fatal("the connection is not netlimit's")
	}
	if bc.quiet == nil {
		t.Fatal("no quiet reader under netlimit's connection")
	}
	if _, ok := c.(Tapper); !ok {
		t.Fatal("the connection is not a Tapper")
	}
	// Interleaved frames past the handshake, so that reads are batched.
	frame := append([]byte{'$', 0, 0x03, 0xe8}, make([]byte, 1000)...)
	frames := batchAfter/len(frame) + 20
	go func() {
		for range frames {
			client.Write(frame)
		}
	}()
	got := make([]byte, frames*len(frame))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if v := rcvlowat(t, socket(bc.Conn).(*net.TCPConn)); v != quietLowat {
		t.Errorf("SO_RCVLOWAT %d while batched, want %d", v, quietLowat)
	}
	if lim.Open() != 1 {
		t.Fatalf("%d connections counted open, want 1", lim.Open())
	}
	c.Close()
	if lim.Open() != 0 {
		t.Fatalf("%d connections counted open after Close, want 0", lim.Open())
	}
}
