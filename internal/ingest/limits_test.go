package ingest_test

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/ingest"
	"github.com/camcloud/camcloud/internal/testenv"
)

// rtspOptions connects to the RTSP listener from local address src and
// asks OPTIONS: it returns the connection and whether the server answered
// (admitted) rather than closing it (refused).
func rtspOptions(t *testing.T, src, addr string) (net.Conn, bool) {
	t.Helper()
	c := testenv.DialFrom(t, src, addr)
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = c.Write([]byte("OPTIONS rtsp://" + addr + "/ RTSP/1.0\r\nCSeq: 1\r\n\r\n"))
	line, err := bufio.NewReader(c).ReadString('\n')
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("%s: neither answered nor closed", src)
	}
	return c, strings.HasPrefix(line, "RTSP/1.0 200")
}

// waitAdmitted waits until a connection from src is admitted: the slot
// of a closed connection is freed once the server saw it close.
func waitAdmitted(t *testing.T, src, addr string) {
	t.Helper()
	testenv.Eventually(t, 10*time.Second, "a slot for "+src+" to be free", func() bool {
		c, ok := rtspOptions(t, src, addr)
		if !ok {
			c.Close()
		}
		return ok
	})
}

// TestRTSPConnectionCaps: the RTSP listener, under the fast read path,
// refuses the connections over its cap (netlimit) and frees a slot when a
// connection closes; the bound per source address applies too.
func TestRTSPConnectionCaps(t *testing.T) {
	t.Parallel()
	t.Run("in all", func(t *testing.T) {
		t.Parallel()
		e := startServer(t, func(c *ingest.Config) { c.MaxConns = 2 })
		addr := e.srv.RTSPAddr()
		a, ok1 := rtspOptions(t, "127.0.0.1", addr)
		_, ok2 := rtspOptions(t, "127.0.0.2", addr)
		if !ok1 || !ok2 {
			t.Fatal("a connection within the cap was refused")
		}
		if _, ok := rtspOptions(t, "127.0.0.3", addr); ok {
			t.Fatal("a connection over the cap was admitted")
		}
		a.Close()
		waitAdmitted(t, "127.0.0.3", addr)
	})
	t.Run("per source", func(t *testing.T) {
		t.Parallel()
		e := startServer(t, func(c *ingest.Config) { c.MaxConnsPerSource = 1 })
		addr := e.srv.RTSPAddr()
		a, ok := rtspOptions(t, "127.0.0.1", addr)
		if !ok {
			t.Fatal("first connection refused")
		}
		if _, ok := rtspOptions(t, "127.0.0.1", addr); ok {
			t.Fatal("a second connection from the same address was admitted")
		}
		if _, ok := rtspOptions(t, "127.0.0.2", addr); !ok {
			t.Fatal("a connection from another address was refused")
		}
		a.Close()
		waitAdmitted(t, "127.0.0.1", addr)
	})
}
