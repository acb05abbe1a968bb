// Package netpolicy decides which network destinations camcloud may connect
// to on a user's behalf (pulled cameras name any host and port). It refuses
// loopback, link-local (cloud metadata services), multicast, unspecified and
// reserved addresses, private ranges unless an operator allows them, and the
// server's own listeners; and it checks the address actually dialled, after
// name resolution, so that a name resolving to a refused address (DNS
// rebinding) is refused too.
package netpolicy

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
)

// ErrRefused is what every refusal matches with errors.Is.
var ErrRefused = errors.New("destination refused")

// RefusedError names a refused destination and why.
type RefusedError struct {
	Addr   string // the address refused, host:port or host
	Reason string // e.g. "a loopback address"
}

// Error reads "destination refused: 127.0.0.1:5432 is a loopback address".
func (e *RefusedError) Error() string {
	return fmt.Sprintf("destination refused: %s is %s", e.Addr, e.Reason)
}

// Is makes errors.Is(err, ErrRefused) hold.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// reserved are ranges that are neither public nor covered by netip's
// classifiers but must not be reached either.
var reserved = []struct {
	p      netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), `in "this network" (0.0.0.0/8)`},
	{netip.MustParsePrefix("::/96"), "an IPv4-compatible address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a shared (carrier-grade NAT) address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol assignment"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"},
	{netip.MustParsePrefix("fec0::/10"), "a site-local address"},
	{netip.MustParsePrefix("64:ff9b::/96"), "a NAT64 address"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a NAT64 address"},
}

// Policy is a destination policy. Its zero value is not usable: use New.
// It is safe for concurrent use.
type Policy struct {
	allow []netip.Prefix
	// setting names the configuration that allows private ranges, in
	// refusals ("pull_allow" unless NewFor says otherwise).
	setting string

	mu   sync.Mutex
	self []netip.AddrPort // the server's own listeners
}

// New returns a policy that allows the private (and otherwise refused)
// addresses inside allow. Unspecified, multicast and broadcast addresses
// and the server's own listeners stay refused whatever allow says.
func New(allow []netip.Prefix) *Policy { return NewFor(allow, "pull_allow") }

// NewFor is New for a policy whose allowed ranges are configured in the
// setting named (e.g. "webhook_allow"), which refusals then name.
func NewFor(allow []netip.Prefix, setting string) *Policy {
	return &Policy{allow: append([]netip.Prefix(nil), allow...), setting: setting}
}

// ParseAllow parses a list of CIDR prefixes (a bare address counts as a
// single-address prefix), as configured in pull_allow.
func ParseAllow(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR prefix or address", s)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// AddSelf refuses the given listen addresses (host:port, as bound; an
// unspecified host stands for every address of this machine), so that a
// pulled camera cannot aim the server at its own HTTP, RTSP or RTMP port.
// An empty host (":8000") is every address too; names and unparsable
// addresses are ignored.
func (p *Policy) AddSelf(addrs ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, a := range addrs {
		host, port, err := net.SplitHostPort(a)
		if err != nil {
			continue
		}
		if host == "" {
			host = "::"
		}
		ap, err := netip.ParseAddrPort(net.JoinHostPort(host, port))
		if err == nil && ap.Port() != 0 {
			p.self = append(p.self, netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port()))
		}
	}
}

// Check decides one destination address.
func (p *Policy) Check(ap netip.AddrPort) error {
	a := ap.Addr().Unmap().WithZone("")
	refuse := func(reason string) error { return &RefusedError{Addr: ap.String(), Reason: reason} }
	switch {
	case !a.IsValid():
		return refuse("not an address")
	case a.IsUnspecified():
		return refuse("the unspecified address")
	case a.IsMulticast():
		return refuse("a multicast address")
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return refuse("the broadcast address")
	case p.isSelf(a, ap.Port()):
		return refuse("one of this server's own listeners")
	}
	for _, pr := range p.allow {
		if pr.Contains(a) {
			return nil
		}
	}
	if reason := classify(a, p.setting); reason != "" {
		return refuse(reason)
	}
	return nil
}

// classify names why a is not a public unicast address, or "".
func classify(a netip.Addr, setting string) string {
	switch {
	case a.IsLoopback():
		return "a loopback address"
	case a.IsLinkLocalUnicast():
		return "a link-local address (such as a cloud metadata service)"
	case a.IsPrivate():
		return "a private address (allow its range in " + setting + " to reach it)"
	}
	for _, r := range reserved {
		if r.p.Contains(a) {
			return r.reason
		}
	}
	return ""
}

// isSelf says whether a:port is one of this server's listeners.
func (p *Policy) isSelf(a netip.Addr, port uint16) bool {
	p.mu.Lock()
	self := p.self
	p.mu.Unlock()
	for _, s := range self {
		if s.Port() != port {
			continue
		}
		if s.Addr() == a || s.Addr().IsUnspecified() && (a.IsLoopback() || isLocal(a)) {
			return true
		}
	}
	return false
}

// isLocal says whether a is an address of one of this machine's interfaces.
func isLocal(a netip.Addr) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return true // cannot tell: treat as local (refuse)
	}
	for _, ia := range addrs {
		if n, ok := ia.(*net.IPNet); ok {
			if la, ok := netip.AddrFromSlice(n.IP); ok && la.Unmap() == a {
				return true
			}
		}
	}
	return false
}

// CheckHost decides a host and port taken from a URL before any name is
// resolved: an IP literal is checked as Check does, "localhost" names are
// loopback; other names pass here and are checked when dialled.
func (p *Policy) CheckHost(host string, port uint16) error {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		h = "127.0.0.1"
	}
	a, err := netip.ParseAddr(strings.Trim(h, "[]"))
	if err != nil {
		return nil
	}
	return p.Check(netip.AddrPortFrom(a, port))
}

// Control is a net.Dialer Control function: it refuses the connection
// before it is made when the resolved address is refused.
func (p *Policy) Control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &RefusedError{Addr: address, Reason: "not an address"}
	}
	return p.Check(ap)
}

// Dialer returns a net.Dialer that applies the policy to every address it
// connects to.
func (p *Policy) Dialer() *net.Dialer { return &net.Dialer{Control: p.Control} }
