package fastpath

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"
)

// chunkReader returns r's bytes in reads of random sizes.
type chunkReader struct {
	data []byte
	rnd  *rand.Rand
	max  int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(1+c.rnd.IntN(c.max), len(p), len(c.data))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// interleaved returns an interleaved frame.
func interleaved(ch byte, payload []byte) []byte {
	return append([]byte{'$', ch, byte(len(payload) >> 8), byte(len(payload))}, payload...)
}

// rtspStream builds what a publisher sends after RECORD: frames on
// channels 0 to 3 (some larger than the read-ahead buffer) and requests,
// one with a body full of '$'. It returns the stream, what the library
// must read of it when channel 0 is tapped, and the tapped payloads.
func rtspStream(rnd *rand.Rand, n int) (stream, library []byte, tapped [][]byte) {
	for i := range n {
		switch {
		case i%37 == 5:
			body := bytes.Repeat([]byte("$\x00\x00\x10"), 5)
			msg := fmt.Sprintf("SET_PARAMETER rtsp://h/p RTSP/1.0\r\nCSeq: %d\r\ncontent-length:  %d\r\n\r\n%s", i, len(body), body)
			stream, library = append(stream, msg...), append(library, msg...)
		case i%23 == 7:
			msg := fmt.Sprintf("GET_PARAMETER rtsp://h/p RTSP/1.0\nCSeq: %d\n\n", i)
			stream, library = append(stream, msg...), append(library, msg...)
		default:
			size := rnd.IntN(1500)
			if i%41 == 3 {
				size = readAhead + rnd.IntN(20000)
			}
			payload := make([]byte, size)
			for j := range payload {
				payload[j] = byte(rnd.IntN(256))
			}
			ch := byte(rnd.IntN(4))
			f := interleaved(ch, payload)
			stream = append(stream, f...)
			if ch == 0 {
				tapped = append(tapped, payload)
			} else {
				library = append(library, f...)
			}
		}
	}
	return stream, library, tapped
}

// readSplit reads stream through a splitting batchConn in reads of up to
// bufSize bytes, as the RTSP library's bufio.Reader does, with channel 0
// tapped by tap from the start.
func readSplit(t *testing.T, stream []byte, seed uint64, bufSize int, tap FrameTap) []byte {
	t.Helper()
	rnd := rand.New(rand.NewPCG(seed, 1))
	c := newBatchConn(&countingConn{r: &chunkReader{data: stream, rnd: rnd, max: 3 * readAhead}}, 0, NewBuffers())
	c.split = &rtspSplitter{}
	c.keepAlive = time.Hour
	if !c.Tap(0, tap) {
		t.Fatal("tap refused on a split connection")
	}
	got, err := drain(c, bufSize)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// drain reads c to its end in reads of size bytes; io.EOF is not an
// error.
func drain(c *batchConn, size int) ([]byte, error) {
	var into []byte
	p := make([]byte, size)
	for {
		n, err := c.Read(p)
		into = append(into, p[:n]...)
		switch {
		case err == io.EOF:
			return into, nil
		case err != nil:
			return into, err
		case n == 0:
			return into, errors.New("Read returned nothing and no error")
		}
	}
}

func TestSplitterTakesTappedFrames(t *testing.T) {
	for _, bufSize := range []int{1, 7, 4096, 100000} {
		t.Run(fmt.Sprint(bufSize), func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(uint64(bufSize), 2))
			stream, library, want := rtspStream(rnd, 300)
			var got [][]byte
			lib := readSplit(t, stream, uint64(bufSize), bufSize, func(p []byte) bool {
				got = append(got, bytes.Clone(p))
				return true
			})
			if !bytes.Equal(lib, library) {
				t.Fatalf("the library read %d bytes, want %d (or different bytes)", len(lib), len(library))
			}
			if len(got) != len(want) {
				t.Fatalf("tapped %d frames, want %d", len(got), len(want))
			}
			for i := range want {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("tapped frame %d differs", i)
				}
			}
		})
	}
}

// TestSplitterDeclineGivesTheChannelBack: after a tap declines a frame,
// that frame and every later one of its channel reach the library.
func TestSplitterDeclineGivesTheChannelBack(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 3))
	stream, _, want := rtspStream(rnd, 200)
	calls := 0
	lib := readSplit(t, stream, 3, 4096, func([]byte) bool {
		calls++
		return calls < 3
	})
	if calls != 3 {
		t.Fatalf("tap called %d times after declining", calls)
	}
	// The library gets everything but the first two channel-0 frames.
	first := bytes.Index(stream, interleaved(0, want[0]))
	second := bytes.Index(stream[first+4+len(want[0]):], interleaved(0, want[1])) + first + 4 + len(want[0])
	exp := append(append(bytes.Clone(stream[:first]), stream[first+4+len(want[0]):second]...), stream[second+4+len(want[1]):]...)
	if !bytes.Equal(lib, exp) {
		t.Fatalf("the library read %d bytes, want %d", len(lib), len(exp))
	}
}

// TestSplitterLeavesOtherStreamsAlone: tunnels, TLS and garbage are passed
// through whole, frames included.
func TestSplitterLeavesOtherStreamsAlone(t *testing.T) {
	frame := interleaved(0, []byte{1, 2, 3})
	long := "RECORD rtsp://h/p RTSP/1.0\r\nX: " + string(bytes.Repeat([]byte("a"), maxLineLen)) + "\r\n\r\n"
	cases := map[string]string{
		"http tunnel":           "GET /p HTTP/1.0\r\nx-sessioncookie: a\r\n\r\n",
		"tls":                   "\x16\x03\x01\x02\x00",
		"garbage":               "\x00\x01zz",
		"unknown method":        "FOO rtsp://h RTSP/1.0\r\n\r\n",
		"two content lengths":   "SET_PARAMETER rtsp://h RTSP/1.0\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
		"bad content length":    "SET_PARAMETER rtsp://h RTSP/1.0\r\nContent-Length: -1\r\n\r\n",
		"line over the limit":   long,
		"huge content length":   "SET_PARAMETER rtsp://h RTSP/1.0\r\nContent-Length: 99999999\r\n\r\n",
		"content length no num": "SET_PARAMETER rtsp://h RTSP/1.0\r\nContent-Length: x\r\n\r\n",
	}
	for name, head := range cases {
		t.Run(name, func(t *testing.T) {
			stream := append([]byte(head), frame...)
			lib := readSplit(t, stream, 4, 4096, func([]byte) bool {
				t.Fatal("a frame was tapped")
				return true
			})
			if !bytes.Equal(lib, stream) {
				t.Fatal("the stream was not passed through whole")
			}
		})
	}
}

// FuzzSplitter checks that whatever the bytes, the library's bytes and the
// tapped frames put back in place are the input, in order. The library
// reads one byte at a time, so that a tapped frame is always handled
// before the bytes the same Read returns.
func FuzzSplitter(f *testing.F) {
	rnd := rand.New(rand.NewPCG(5, 5))
	s, _, _ := rtspStream(rnd, 12)
	f.Add(s[:min(len(s), 8000)], uint64(1))
	f.Add([]byte("OPTIONS rtsp://h RTSP/1.0\r\nContent-Length: 3\r\n\r\n$\x00\x00$\x00\x00\x01z"), uint64(2))
	f.Fuzz(func(t *testing.T, stream []byte, seed uint64) {
		if len(stream) > 1<<16 {
			return
		}
		var rebuilt []byte
		c := newBatchConn(&countingConn{r: &chunkReader{data: stream, rnd: rand.New(rand.NewPCG(seed, 1)), max: 5000}}, 0, NewBuffers())
		c.split = &rtspSplitter{}
		c.keepAlive = time.Hour
		c.Tap(0, func(p []byte) bool {
			if len(p) == 3 {
				return false // declined: the library reads it (and the rest)
			}
			rebuilt = append(rebuilt, interleaved(0, p)...)
			return true
		})
		// The tap appends to rebuilt too: read here, not with drain.
		p := make([]byte, 1)
		for {
			n, err := c.Read(p)
			rebuilt = append(rebuilt, p[:n]...)
			if err != nil {
				break
			}
		}
		// A tapped frame cut short by the end of the stream is lost: the
		// connection ended in its middle.
		if !bytes.HasPrefix(stream, rebuilt) {
			t.Fatalf("rebuilt stream differs from the input")
		}
		if len(stream)-len(rebuilt) > 4+65535 {
			t.Fatalf("%d bytes lost at the end", len(stream)-len(rebuilt))
		}
	})
}

// TestSplitterKeepsTheLibraryAwake: when taps take every frame, the
// library is given an empty frame on channel 255 now and then, at a
// message boundary, and nothing else.
func TestSplitterKeepsTheLibraryAwake(t *testing.T) {
	var stream []byte
	for i := range 50 {
		stream = append(stream, interleaved(0, bytes.Repeat([]byte{byte(i)}, 100+i))...)
	}
	rnd := rand.New(rand.NewPCG(6, 6))
	c := newBatchConn(&countingConn{r: &chunkReader{data: stream, rnd: rnd, max: 700}}, 0, NewBuffers())
	c.split = &rtspSplitter{}
	c.keepAlive = time.Nanosecond
	tapped := 0
	c.Tap(0, func([]byte) bool { tapped++; return true })
	lib, err := drain(c, 4096)
	if err != nil {
		t.Fatal(err)
	}
	if tapped != 50 {
		t.Fatalf("tapped %d frames, want 50", tapped)
	}
	if len(lib) == 0 || !bytes.Equal(lib, bytes.Repeat(keepAliveFrame, len(lib)/len(keepAliveFrame))) {
		t.Fatalf("the library read %q, want keep-alive frames only", lib)
	}
}
