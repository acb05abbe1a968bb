package netpolicy_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"

	"github.com/camcloud/camcloud/internal/netpolicy"
	"github.com/camcloud/camcloud/internal/testenv"
)

func mustAllow(t *testing.T, list ...string) []netip.Prefix {
	t.Helper()
	p, err := netpolicy.ParseAllow(list)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheck(t *testing.T) {
	t.Parallel()
	def := netpolicy.New(nil)
	onprem := netpolicy.New(mustAllow(t, "10.1.0.0/16", "192.168.7.9", "127.0.0.0/8"))
	onprem.AddSelf("0.0.0.0:8554", "127.0.0.1:8080", "[::]:1935", ":8000", "cam.example:9", "nonsense")
	cases := []struct {
		addr   string
		def    bool // allowed by the default policy
		onprem bool // allowed by onprem
	}{
		{"203.0.113.7:554", true, true},
		{"[2001:db8::1]:554", true, true},
		{"8.8.8.8:554", true, true},
		{"127.0.0.1:554", false, true},
		{"127.0.0.1:8554", false, false}, // own RTSP listener (bound to all addresses)
		{"127.0.0.1:8080", false, false}, // own HTTP listener
		{"127.0.0.2:8080", false, true},  // HTTP is bound to 127.0.0.1 only
		{"127.0.0.1:1935", false, false},
		{"127.0.0.1:8000", false, false},
		{"127.0.0.1:8001", false, true},
		{"[::1]:554", false, false},
		{"[::ffff:127.0.0.1]:554", false, true},
		{"127.0.0.1:3306", false, true},
		{"169.254.169.254:80", false, false},
		{"[fe80::1]:554", false, false},
		{"10.0.0.5:554", false, false},
		{"10.1.2.3:554", false, true},
		{"[::ffff:10.1.2.3]:554", false, true},
		{"172.16.0.1:554", false, false},
		{"192.168.7.9:554", false, true},
		{"192.168.7.10:554", false, false},
		{"[fd00::1]:554", false, false},
		{"100.64.0.1:554", false, false},
		{"0.0.0.0:554", false, false},
		{"[::]:554", false, false},
		{"224.0.0.1:554", false, false},
		{"255.255.255.255:554", false, false},
		{"240.0.0.1:554", false, false},
		{"[64:ff9b::7f00:1]:554", false, false},
		{"[::7f00:1]:554", false, false},
	}
	for _, c := range cases {
		ap := netip.MustParseAddrPort(c.addr)
		for _, pc := range []struct {
			name string
			p    *netpolicy.Policy
			want bool
		}{{"default", def, c.def}, {"onprem", onprem, c.onprem}} {
			err := pc.p.Check(ap)
			if (err == nil) != pc.want {
				t.Errorf("%s: Check(%s) = %v, want allowed=%v", pc.name, c.addr, err, pc.want)
			}
			if err != nil && !errors.Is(err, netpolicy.ErrRefused) {
				t.Errorf("%s: %v is not ErrRefused", pc.name, err)
			}
		}
	}
}

func TestCheckHost(t *testing.T) {
	t.Parallel()
	p := netpolicy.New(nil)
	for _, c := range []struct {
		host string
		ok   bool
	}{
		{"cam.example.net", true}, // names are checked when dialled
		{"203.0.113.7", true},
		{"127.0.0.1", false},
		{"localhost", false},
		{"LocalHost.", false},
		{"db.localhost", false},
		{"[::1]", false},
		{"::1", false},
		{"169.254.169.254", false},
		{"fe80::1%eth0", false},
	} {
		if err := p.CheckHost(c.host, 554); (err == nil) != c.ok {
			t.Errorf("CheckHost(%q) = %v, want ok=%v", c.host, err, c.ok)
		}
	}
}

func TestParseAllow(t *testing.T) {
	t.Parallel()
	got, err := netpolicy.ParseAllow([]string{" 10.0.0.0/8", "", "192.168.1.5", "fd00::/8", "10.1.2.3/16"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.168.1.5/32", "fd00::/8", "10.1.0.0/16"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("%d: %s, want %s", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "cam.local", "10.0.0"} {
		if _, err := netpolicy.ParseAllow([]string{bad}); err == nil {
			t.Errorf("ParseAllow(%q) accepted", bad)
		}
	}
}

// TestDialerChecksResolvedAddress dials a real listener on 127.0.0.1, by
// name and by address: the address the name resolves to is refused before
// any connection is made, and allowed once listed.
func TestDialerChecksResolvedAddress(t *testing.T) {
	t.Parallel()
	lnAddr, accepted := testenv.AcceptCounter(t)
	_, port, _ := net.SplitHostPort(lnAddr)
	ctx := context.Background()
	for _, target := range []string{"localhost", "127.0.0.1"} {
		c, err := netpolicy.New(nil).Dialer().DialContext(ctx, "tcp", net.JoinHostPort(target, port))
		if err == nil {
			c.Close()
			t.Fatalf("dial %s was let through", target)
		}
		if !errors.Is(err, netpolicy.ErrRefused) {
			t.Fatalf("dial %s: %v, want ErrRefused", target, err)
		}
	}
	select {
	case <-accepted:
		t.Fatal("a refused dial reached the listener")
	default:
	}
	c, err := netpolicy.New(mustAllow(t, "127.0.0.0/8")).Dialer().DialContext(ctx, "tcp", net.JoinHostPort("localhost", port))
	if err != nil {
		t.Fatalf("allowed dial: %v", err)
	}
	c.Close()
	<-accepted
}

// gortsplib asserts its client UDP sockets to this interface.
var _ interface {
	net.PacketConn
	SyscallConn() (syscall.RawConn, error)
	SetReadBuffer(int) error
} = (*netpolicy.UDPConn)(nil)

func TestUDPWriteChecked(t *testing.T) {
	t.Parallel()
	dst, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	pc, err := netpolicy.New(nil).ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.WriteTo([]byte("x"), dst.LocalAddr()); !errors.Is(err, netpolicy.ErrRefused) {
		t.Fatalf("WriteTo loopback: %v, want ErrRefused", err)
	}
	ok, err := netpolicy.New(mustAllow(t, "127.0.0.1")).ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ok.Close()
	if _, err := ok.WriteTo([]byte("x"), dst.LocalAddr()); err != nil {
		t.Fatalf("allowed WriteTo: %v", err)
	}
}
