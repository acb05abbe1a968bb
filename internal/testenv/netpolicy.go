package testenv

import (
	"net"
	"net/netip"
	"testing"

	"github.com/camcloud/camcloud/internal/netpolicy"
)

// AllowLoopback is a pull destination policy that also allows 127.0.0.0/8,
// for tests that pull from simulated cameras on 127.0.0.1 (the default
// policy refuses loopback, as it should in production).
func AllowLoopback() *netpolicy.Policy {
	return netpolicy.New([]netip.Prefix{netip.MustParsePrefix(LoopbackAllow)})
}

// LoopbackAllow is the pull_allow value that lets tests pull from 127.0.0.1.
const LoopbackAllow = "127.0.0.0/8"

// AcceptCounter listens on 127.0.0.1:0 until the test ends, accepts and
// closes every connection, and signals each on accepted, so that a test can
// tell whether anything connected.
func AcceptCounter(t testing.TB) (addr string, accepted <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	ch := make(chan struct{}, 64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	return ln.Addr().String(), ch
}
