package netlimit_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/netlimit"
	"github.com/camcloud/camcloud/internal/testenv"
)

// echoServer serves ln: every admitted connection answers "ok\n" and then
// stays open until the peer closes it.
func echoServer(t *testing.T, lim netlimit.Limits) (*netlimit.Listener, string) {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := netlimit.Listen(raw, lim)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = c.Write([]byte("ok\n"))
				_, _ = io.Copy(io.Discard, c)
			}()
		}
	}()
	return ln, raw.Addr().String()
}

// dialFrom connects from local address src and returns the first line the
// server sends, "" when it closes the connection first.
func dialFrom(t *testing.T, src, addr string) (net.Conn, string) {
	t.Helper()
	c := testenv.DialFrom(t, src, addr)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("read: %v", err)
	}
	return c, line
}

func TestPerSourceLimit(t *testing.T) {
	t.Parallel()
	ln, addr := echoServer(t, netlimit.Limits{PerSource: 2, Refusal: []byte("busy\n")})
	c1, l1 := dialFrom(t, "127.0.0.1", addr)
	_, l2 := dialFrom(t, "127.0.0.1", addr)
	if l1 != "ok\n" || l2 != "ok\n" {
		t.Fatalf("first two: %q %q", l1, l2)
	}
	if _, l3 := dialFrom(t, "127.0.0.1", addr); l3 != "busy\n" {
		t.Fatalf("third from one source: %q, want refusal", l3)
	}
	if _, l := dialFrom(t, "127.0.0.2", addr); l != "ok\n" {
		t.Fatalf("another source: %q", l)
	}
	if ln.Refused() != 1 {
		t.Fatalf("Refused = %d", ln.Refused())
	}
	_ = c1.Close()
	deadline := time.Now().Add(10 * time.Second)
	for ln.Open() != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("closed connection not released: %d open", ln.Open())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, l := dialFrom(t, "127.0.0.1", addr); l != "ok\n" {
		t.Fatalf("after a close: %q", l)
	}
}

func TestTotalLimit(t *testing.T) {
	t.Parallel()
	ln, addr := echoServer(t, netlimit.Limits{Max: 2})
	for _, src := range []string{"127.0.0.1", "127.0.0.2"} {
		if _, l := dialFrom(t, src, addr); l != "ok\n" {
			t.Fatalf("%s: %q", src, l)
		}
	}
	if _, l := dialFrom(t, "127.0.0.3", addr); l != "" {
		t.Fatalf("over the total: %q, want a closed connection", l)
	}
	if ln.Refused() != 1 || ln.Open() != 2 {
		t.Fatalf("refused %d open %d", ln.Refused(), ln.Open())
	}
}

// TestOnRefuseAndNetConn: OnRefuse hears of every refused connection, and
// an admitted connection hands out the socket it wraps (NetConn) while its
// own Close still frees its place.
func TestOnRefuseAndNetConn(t *testing.T) {
	t.Parallel()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := make(chan net.Addr, 1)
	ln := netlimit.Listen(raw, netlimit.Limits{Max: 1, OnRefuse: func(a net.Addr) { refused <- a }})
	defer ln.Close()
	c1, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	s1, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	w, ok := s1.(interface{ NetConn() net.Conn })
	if !ok {
		t.Fatal("an admitted connection has no NetConn")
	}
	if _, ok := w.NetConn().(*net.TCPConn); !ok {
		t.Fatalf("NetConn is %T, want the socket", w.NetConn())
	}
	c2, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	go func() {
		if c, err := ln.Accept(); err == nil { // the next admitted one, after the refusal
			c.Close()
		}
	}()
	select {
	case a := <-refused:
		if a.String() != c2.LocalAddr().String() {
			t.Fatalf("OnRefuse got %v, want %v", a, c2.LocalAddr())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("OnRefuse not called")
	}
	_ = s1.Close()
	if ln.Open() != 0 {
		t.Fatalf("%d open after Close", ln.Open())
	}
}
