package testenv

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
)

// childPorts remembers every port handed out by ChildAddr in this test
// binary. A port is closed again before the child process binds it, so
// without this record two calls could hand out the same free port and the
// second child would fail with "address already in use".
var childPorts = struct {
	sync.Mutex
	given map[int]bool
}{given: map[int]bool{}}

// ChildAddr returns a 127.0.0.1 address for a child process to listen on.
// The port is free when returned, lies below the kernel's ephemeral range
// (32768 and up on Linux) so that no outgoing connection of the test's many
// processes takes it before the child binds it, and is never handed out
// twice by one test binary.
func ChildAddr(t testing.TB) string {
	t.Helper()
	port, err := childPort()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// childPort is ChildAddr's port, for helpers that report errors themselves.
func childPort() (int, error) {
	childPorts.Lock()
	defer childPorts.Unlock()
	for range 500 {
		var b [2]byte
		_, _ = rand.Read(b[:])
		port := 20000 + int(binary.BigEndian.Uint16(b[:]))%12000
		if childPorts.given[port] {
			continue
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		_ = ln.Close()
		childPorts.given[port] = true
		return port, nil
	}
	return 0, errors.New("testenv: no free port in 127.0.0.1:20000-31999")
}
