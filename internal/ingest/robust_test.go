package ingest_test

import (
	"context"
	"crypto/rand"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/ingest"
	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestGarbageDoesNotHurtOthers throws random bytes, truncated requests and
// idle connections at both ports while a good camera publishes: the good
// stream must go on without losing a frame.
func TestGarbageDoesNotHurtOthers(t *testing.T) {
	t.Parallel()
	smp := testenv.Sample(t, "sample-h264.ts")
	e := startServer(t, func(c *ingest.Config) { c.ReadTimeout = time.Second })
	u, _ := e.urls(camID, secret)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go sim.PublishOnce(ctx, u, smp, nil)
	s := waitStream(t, e.hub, camID, 10*time.Second)
	r, err := s.NewReader(8192)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	random := func(n int) []byte {
		b := make([]byte, n)
		rand.Read(b)
		return b
	}
	attacks := map[string][][]byte{
		"random":            {random(4096)},
		"random-dollar":     {append([]byte{'$', 0, 0xff, 0xff}, random(2000)...)},
		"truncated-request": {[]byte("ANNOUNCE rtsp://x/cam/cam1/s3cret RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 5000\r\n\r\nv=0\r\n")},
		"half-line":         {[]byte("OPTIONS rtsp://x/ RTS")},
		"long-header":       {[]byte("OPTIONS rtsp://x/ RTSP/1.0\r\nX: " + strings.Repeat("a", 200000))},
		"bad-sdp": {[]byte("ANNOUNCE rtsp://x/cam/cam1/s3cret RTSP/1.0\r\nCSeq: 1\r\nContent-Type: application/sdp\r\n" +
			"Content-Length: 20\r\n\r\nm=video 0 RTP/AVP 96\r\n")},
		"rtmp-c0-only":   {{0x03}},
		"rtmp-truncated": {append([]byte{0x03}, random(700)...)},
		"idle":           {},
	}
	var wg sync.WaitGroup
	for round := 0; round < 3; round++ {
		for name, msgs := range attacks {
			for _, addr := range []string{e.srv.RTSPAddr(), e.srv.RTMPAddr()} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c, err := net.Dial("tcp", addr)
					if err != nil {
						t.Errorf("%s: %v", name, err)
						return
					}
					defer c.Close()
					for _, m := range msgs {
						c.Write(m)
					}
					c.SetReadDeadline(time.Now().Add(5 * time.Second))
					io.Copy(io.Discard, c) // until the server drops us
				}()
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	wg.Wait()

	// Every video frame between the first and the last must be there.
	var first, last int64 = -1, -1
	frames := 0
	deadline := time.After(3 * time.Second)
loop:
	for {
		select {
		case un, ok := <-r.C():
			if !ok {
				t.Fatalf("good stream ended: %v", r.Err())
			}
			if un.Track != 1 {
				continue
			}
			if first < 0 {
				first = un.DTS
			}
			last = un.DTS
			frames++
		case <-deadline:
			break loop
		}
	}
	const frameTicks = 90000 / 25
	if want := int((last-first)/frameTicks) + 1; frames < 50 || frames != want {
		t.Fatalf("got %d frames, want %d (DTS %d..%d)", frames, want, first, last)
	}
	if e.hub.Get(camID) != s {
		t.Fatal("the good stream was replaced")
	}
}

// TestIdleConnectionsTimeOut checks that a silent connection is dropped.
func TestIdleConnectionsTimeOut(t *testing.T) {
	t.Parallel()
	e := startServer(t, func(c *ingest.Config) { c.ReadTimeout = 500 * time.Millisecond })
	for _, addr := range []string{e.srv.RTSPAddr(), e.srv.RTMPAddr()} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err = io.Copy(io.Discard, c)
		c.Close()
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("%s: idle connection kept open", addr)
		}
	}
}

// TestMaxConns checks the connection limit per protocol.
func TestMaxConns(t *testing.T) {
	t.Parallel()
	e := startServer(t, func(c *ingest.Config) { c.MaxConns = 2 })
	for _, addr := range []string{e.srv.RTSPAddr(), e.srv.RTMPAddr()} {
		var held []net.Conn
		for i := 0; i < 2; i++ {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, c)
		}
		time.Sleep(100 * time.Millisecond)
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err = c.Read(make([]byte, 1))
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("%s: connection over the limit kept open", addr)
		}
		c.Close()
		for _, h := range held {
			h.Close()
		}
	}
}

// TestStopAccepting checks the drain step: new connections are refused,
// running streams go on.
func TestStopAccepting(t *testing.T) {
	t.Parallel()
	smp := testenv.Sample(t, "sample-h264.ts")
	e := startServer(t, nil)
	u, _ := e.urls(camID, secret)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go sim.PublishOnce(ctx, u, smp, nil)
	s := waitStream(t, e.hub, camID, 10*time.Second)
	e.srv.StopAccepting()
	for _, addr := range []string{e.srv.RTSPAddr(), e.srv.RTMPAddr()} {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Fatalf("%s still accepts", addr)
		}
	}
	readUnits(t, s, 10, 10*time.Second)
	e.srv.Close()
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the stream")
	}
}
