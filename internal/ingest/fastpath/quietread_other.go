//go:build !linux

package fastpath

import "net"

// quietReader is Linux only (SO_RCVLOWAT wake-up semantics of TCP).
type quietReader struct{}

func newQuietReader(net.Conn) *quietReader { return nil }

func (*quietReader) read([]byte) (int, error) { panic("unreachable") }
