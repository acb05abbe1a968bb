package testenv

import (
	"net"
	"testing"
	"time"
)

// DialFrom connects to addr over TCP from the local address src (any
// 127.0.0.0/8 address on Linux), for tests of limits per source address;
// the connection is closed when the test ends.
func DialFrom(t testing.TB, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}
