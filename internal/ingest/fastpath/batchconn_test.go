package fastpath

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/testenv"
)

// countingConn is a net.Conn over a reader that counts Read calls.
type countingConn struct {
	net.Conn
	r         io.Reader
	reads     int
	deadlines int
}

func (c *countingConn) Read(p []byte) (int, error) {
	c.reads++
	return c.r.Read(p)
}

func (c *countingConn) SetReadDeadline(t time.Time) error {
	c.deadlines++
	if c.Conn == nil {
		return nil
	}
	return c.Conn.SetReadDeadline(t)
}

func TestBatchConnReadAhead(t *testing.T) {
	data := make([]byte, 3*readAhead+123)
	for i := range data {
		data[i] = byte(i * 7)
	}
	cases := []struct {
		name  string
		chunk int // size of each read the caller makes
	}{
		{"bufio-sized reads", 4096},
		{"tiny reads", 13},
		{"reads larger than the buffer", 2 * readAhead},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			under := &countingConn{r: bytes.NewReader(data)}
			gc := newBatchConn(under, 0, NewBuffers())
			var got []byte
			p := make([]byte, c.chunk)
			for {
				n, err := gc.Read(p)
				got = append(got, p[:n]...)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("read %d bytes that differ from the %d sent", len(got), len(data))
			}
			// Each read of the connection takes up to readAhead bytes (plus the
			// final read that sees EOF), however small the caller's reads.
			if max := len(data)/readAhead + 2; under.reads > max {
				t.Fatalf("%d reads of the connection, want at most %d", under.reads, max)
			}
		})
	}
}

func TestBatchConnKeepsDeadlineErrors(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	gc := newBatchConn(a, time.Hour, NewBuffers()) // batching starts after batchAfter bytes only
	go b.Write([]byte("hello"))
	p := make([]byte, 2)
	if n, err := gc.Read(p); err != nil || string(p[:n]) != "he" {
		t.Fatalf("first read: %q, %v", p[:n], err)
	}
	if n, err := gc.Read(p); err != nil || string(p[:n]) != "ll" {
		t.Fatalf("buffered read: %q, %v", p[:n], err)
	}
	if n, _ := gc.Read(p); string(p[:n]) != "o" {
		t.Fatalf("last buffered read: %q", p[:n])
	}
	gc.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	var ne net.Error
	if _, err := gc.Read(p); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read past the deadline: %v, want a timeout", err)
	}
}

// TestBatchConnBatchesMedia streams small bursts over real TCP, as a camera
// sends its frames, and checks that once past the handshake the stream is
// read about once per interval, and loses nothing.
func TestBatchConnBatchesMedia(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const (
		interval = 50 * time.Millisecond
		burst    = 700
		bursts   = 200 // every 5 ms: 1 s of "media"
	)
	sent := make([]byte, batchAfter+burst*bursts)
	for i := range sent {
		sent[i] = byte(i * 13)
	}
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return
		}
		defer c.Close()
		c.Write(sent[:batchAfter]) // the "handshake": read at full speed
		for i := range bursts {
			off := batchAfter + i*burst
			c.Write(sent[off : off+burst])
			time.Sleep(5 * time.Millisecond)
		}
	}()
	raw, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	under := &countingConn{Conn: raw, r: raw}
	bc := newBatchConn(under, interval, NewBuffers())
	defer bc.Close()
	bc.SetReadDeadline(time.Now().Add(30 * time.Second))
	start := time.Now()
	got, err := io.ReadAll(readerFunc(func(p []byte) (int, error) { return bc.Read(p[:min(len(p), 4096)]) }))
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	if !bytes.Equal(got, sent) {
		t.Fatalf("read %d bytes that differ from the %d sent", len(got), len(sent))
	}
	// Read once per interval, the media part takes one read per tick it
	// lasted (at least 20 for 1 s), however many bursts: a twentieth of
	// the reads of one per burst. The limit follows the time it took, so
	// that a slow machine (longer sleeps, more ticks) does not fail it.
	media := under.reads - batchAfter/readAhead - 2
	if limit := int(elapsed/interval) + 10; media > limit || media > bursts/2 {
		t.Fatalf("%d reads for %d bursts in %v, want at most %d with %s batches", media, bursts, elapsed, min(limit, bursts/2), interval)
	}
	t.Logf("%d reads of the connection for %d bursts", under.reads, bursts)
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func TestUntilNextTick(t *testing.T) {
	iv := 50 * time.Millisecond
	for _, off := range []time.Duration{0, time.Millisecond, 49 * time.Millisecond} {
		now := time.Unix(1700000000, 0).Add(off)
		d := untilNextTick(now, iv)
		if d <= 0 || d > iv || now.Add(d).UnixNano()%int64(iv) != 0 {
			t.Errorf("at +%s: %s, want the time to the next multiple of %s", off, d, iv)
		}
	}
}

// TestBatchConnDefersDeadlines: a deadline set before every packet reaches
// the socket only when the socket is read; near deadlines apply at once.
func TestBatchConnDefersDeadlines(t *testing.T) {
	data := make([]byte, 3*readAhead)
	under := &countingConn{r: bytes.NewReader(data)}
	bc := newBatchConn(under, 0, NewBuffers())
	p := make([]byte, 1400)
	for {
		bc.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := bc.Read(p); err != nil {
			break
		}
	}
	if under.deadlines > under.reads {
		t.Errorf("%d deadlines given to the socket for %d reads of it", under.deadlines, under.reads)
	}
	if under.deadlines == 0 {
		t.Error("no deadline reached the socket")
	}
	before := under.deadlines
	bc.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	bc.SetReadDeadline(time.Time{})
	if under.deadlines != before+2 {
		t.Errorf("near and zero deadlines: %d given to the socket, want 2", under.deadlines-before)
	}
}

// wrapConn stands for a connection wrapping a fast-path one (netlimit's,
// say), found through NetConn.
type wrapConn struct{ net.Conn }

func (w wrapConn) NetConn() net.Conn { return w.Conn }

// TestBatchConnReadsAsItArrivesWhileWatched: a connection whose camera has
// live viewers does not wait for its next batch. The batch interval is an
// hour, so each burst below would wait that long (and the test time out)
// if the connection still batched; every burst is sent only after the one
// before it was read.
func TestBatchConnReadsAsItArrivesWhileWatched(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const burst, bursts = 700, 20
	next := make(chan struct{})
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return
		}
		defer c.Close()
		c.Write(make([]byte, batchAfter))
		for range bursts {
			if _, ok := <-next; !ok {
				return
			}
			c.Write(bytes.Repeat([]byte{7}, burst))
		}
	}()
	raw, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	bc := newBatchConn(raw, time.Hour, NewBuffers())
	defer bc.Close()
	if !SetWatched(wrapConn{bc}, func() bool { return true }) {
		t.Fatal("SetWatched found no fast-path connection under the wrapper")
	}
	if bc.quiet == nil {
		t.Fatal("a TCP connection should be read with quiet reads (SO_RCVLOWAT)")
	}
	bc.SetReadDeadline(time.Now().Add(time.Minute))
	if _, err := io.ReadFull(bc, make([]byte, batchAfter)); err != nil {
		t.Fatal(err)
	}
	defer close(next)
	for i := range bursts {
		next <- struct{}{}
		got := make([]byte, burst)
		if _, err := io.ReadFull(bc, got); err != nil {
			t.Fatalf("burst %d: %v", i, err)
		}
		if !bytes.Equal(got, bytes.Repeat([]byte{7}, burst)) {
			t.Fatalf("burst %d differs", i)
		}
	}
	if !bc.batched() {
		t.Fatal("the connection should be past its handshake, in batching mode")
	}
	if SetWatched(raw, func() bool { return true }) {
		t.Fatal("a plain connection is not Watchable")
	}
}

// TestBatchConnCallsBeforeRead: the SetBeforeRead function runs before
// every read of the socket, once all that was read before has been handed
// to the reader (where a publication flushes its gathered units).
func TestBatchConnCallsBeforeRead(t *testing.T) {
	client, server := testenv.TCPPair(t)
	bc := newBatchConn(server, 0, NewBuffers())
	defer bc.Close()
	var handed int
	var at []int // what the reader had been handed at each call
	if !SetBeforeRead(wrapConn{bc}, func() { at = append(at, handed) }) {
		t.Fatal("SetBeforeRead found no fast-path connection under the wrapper")
	}
	bc.SetReadDeadline(time.Now().Add(time.Minute))
	for i, n := range []int{300, 1200, 5} {
		if _, err := client.Write(bytes.Repeat([]byte{byte(i)}, n)); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, n)
		if _, err := io.ReadFull(bc, got); err != nil {
			t.Fatalf("burst %d: %v", i, err)
		}
		if len(at) != i+1 || at[i] != handed {
			t.Fatalf("burst %d: calls saw %v handed bytes, want %d calls, the last at %d", i, at, i+1, handed)
		}
		handed += n
	}
	if SetBeforeRead(client, func() {}) {
		t.Fatal("a plain connection is not Watchable")
	}
}
