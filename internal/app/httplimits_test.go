package app_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/apptest"
)

// trickle writes s to c one byte per interval until done or a write fails,
// and returns how many bytes it wrote.
func trickle(c net.Conn, s string, every time.Duration) *atomic.Int32 {
	var sent atomic.Int32
	go func() {
		for i := range len(s) {
			if _, err := c.Write([]byte{s[i]}); err != nil {
				return
			}
			sent.Add(1)
			time.Sleep(every)
		}
	}()
	return &sent
}

// readUntilClosed reads what the server sends until it closes c.
func readUntilClosed(t *testing.T, c net.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("the server did not close the connection: %v (read %q)", err, b)
	}
	return string(b)
}

// TestHTTPSlowClientsCut feeds a login body, and another request's
// headers, one byte per interval: the server closes both connections at
// its configured bounds, long before the client would have finished.
func TestHTTPSlowClientsCut(t *testing.T) {
	t.Parallel()
	n := apptest.Start(t, "--http-header-timeout", "500ms", "--http-body-timeout", "500ms")
	addr := strings.TrimPrefix(n.Base, "http://")
	body := `{"email":"` + apptest.AdminEmail + `","password":"` + apptest.AdminPassword + `"}`
	for _, c := range []struct {
		name, head, slow string
	}{
		{"slow body", "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
			strconv.Itoa(len(body)) + "\r\n\r\n", body},
		{"slow headers", "", "GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: " + strings.Repeat("s", 60) + "\r\n\r\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, c.head); err != nil {
				t.Fatal(err)
			}
			sent := trickle(conn, c.slow, 200*time.Millisecond)
			got := readUntilClosed(t, conn)
			if int(sent.Load()) >= len(c.slow) {
				t.Fatalf("the connection stayed open until the client was done (%q)", got)
			}
			if strings.Contains(got, " 200 ") {
				t.Fatalf("the slow request was served: %q", got)
			}
		})
	}
}

// TestHTTPConnectionsPerSource: the N+1th connection from one address is
// answered 503 and closed while another address still gets in.
func TestHTTPConnectionsPerSource(t *testing.T) {
	t.Parallel()
	const perIP = 3
	n := apptest.Start(t, "--http-max-conns-per-ip", strconv.Itoa(perIP))
	addr := strings.TrimPrefix(n.Base, "http://")
	get := func(src string) (net.Conn, string) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		_ = c.SetDeadline(time.Now().Add(20 * time.Second))
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return c, "write: " + err.Error()
		}
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return c, "read: " + err.Error()
		}
		res.Body.Close()
		return c, res.Status
	}
	var held []net.Conn
	for range perIP {
		c, st := get("127.0.0.1")
		if st != "200 OK" {
			t.Fatalf("connection within the limit: %s", st)
		}
		held = append(held, c) // kept alive: each still counts
	}
	if _, st := get("127.0.0.1"); st != "503 Service Unavailable" {
		t.Fatalf("connection over the limit: %s, want 503", st)
	}
	if _, st := get("127.0.0.2"); st != "200 OK" {
		t.Fatalf("another address: %s", st)
	}
	_ = held[0].Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, st := get("127.0.0.1")
		if st == "200 OK" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a closed connection's place was not given back: %s", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
