package netpolicy

import (
	"errors"
	"net"
)

// UDPConn is a UDP socket whose WriteTo applies the policy, for clients
// (RTSP over UDP) that send to addresses a remote server names. Only
// WriteTo, the method gortsplib sends with, is checked: the other write
// methods of the embedded connection are not.
type UDPConn struct {
	*net.UDPConn
	p *Policy
}

// ListenPacket opens a UDP socket like net.ListenPacket whose writes are
// checked against the policy; it has the signature of gortsplib's
// Client.ListenPacket.
func (p *Policy) ListenPacket(network, address string) (net.PacketConn, error) {
	pc, err := net.ListenPacket(network, address)
	if err != nil {
		return nil, err
	}
	uc, ok := pc.(*net.UDPConn)
	if !ok {
		_ = pc.Close()
		return nil, errors.New("netpolicy: only UDP sockets are supported")
	}
	return &UDPConn{UDPConn: uc, p: p}, nil
}

// WriteTo sends b to addr unless the policy refuses addr.
func (c *UDPConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, &RefusedError{Addr: addr.String(), Reason: "not a UDP address"}
	}
	if err := c.p.Check(ua.AddrPort()); err != nil {
		return 0, err
	}
	return c.UDPConn.WriteTo(b, addr)
}
