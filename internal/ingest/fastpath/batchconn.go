package fastpath

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// readAhead is the read buffer of an ingest connection. The protocol
// libraries read through 4 KiB bufio.Readers; a camera sends a video frame
// as a burst of packets, often larger than that, so reading up to
// readAhead bytes per system call takes a whole burst at once.
const readAhead = 32 << 10

// batchAfter is how much a connection must have delivered before its reads
// are batched: the protocol handshake (a few small requests, each waiting
// for its answer) runs at full speed, the media that follows is batched.
const batchAfter = 64 << 10

// batchConn reads a media connection in batches. A camera sends every
// video frame and every audio frame as its own burst, 50 to 100 times a
// second; reading each burst as it arrives costs a wake-up of the reading
// goroutine, two read system calls (the second one finds the socket empty)
// and, as often as not, waking an idle OS thread. That is where most of the
// ingest CPU went. Once the socket has been emptied, batchConn waits for
// the next multiple of interval (on one clock shared by every connection,
// so that the connections of a server wake together) and then takes
// everything that arrived with one read of up to readAhead bytes. The
// kernel's receive buffer holds the data meanwhile; a connection that
// fills readAhead is read again at once. The cost is at most interval of
// added latency on live video.
type batchConn struct {
	net.Conn
	interval time.Duration // 0 reads as data arrives
	bufs     *Buffers
	quiet    *quietReader // nil when not a TCP connection on Linux

	buf        *[]byte // from Buffers (or own) while it holds unread bytes
	own        bool    // buf is a one-off buffer, not from Buffers
	start, end int     // unread bytes are (*buf)[start:end]
	need       int     // the splitter needs this many unread bytes to go on
	split      *rtspSplitter
	received   int64
	drained    bool // the last read returned less than the buffer: the socket was empty

	// Read deadlines far enough ahead are kept here and given to the socket
	// only when it is read: the RTSP library sets one before every packet
	// (about 200 a second per camera), each a timer update in the runtime,
	// while only the reads of the socket can block.
	mu       sync.Mutex
	deadline time.Time
	pending  bool // deadline is not applied to the socket yet

	libraryRead time.Time     // when Read last returned bytes (see keepAliveFrame)
	keepAlive   time.Duration // keepAliveAfter; tests change it

	// watched, once set (SetWatched), tells whether the camera has live
	// viewers: then the connection does not wait for the next batch.
	watched atomic.Pointer[func() bool]
	// beforeRead, once set (SetBeforeRead), is called before each read of
	// the socket, when everything read so far has been handed on.
	beforeRead atomic.Pointer[func()]
}

// SetBeforeRead has the connection call f before each read of its socket
// (before a batch's wait too), from the reading goroutine: by then every
// frame read before has been parsed and handed on, so a publication that
// gathers its units for its readers (hub.Stream.Gather) flushes them
// there, once a batch.
func (c *batchConn) SetBeforeRead(f func()) { c.beforeRead.Store(&f) }

// callBeforeRead calls the SetBeforeRead function, if any.
func (c *batchConn) callBeforeRead() {
	if f := c.beforeRead.Load(); f != nil {
		(*f)()
	}
}

// SetWatched makes the connection read as data arrives, without waiting
// for the next batch, whenever watched reports true (a camera with live
// viewers: batching would add up to the interval to their latency), and
// batch again when it reports false. watched is called before each wait,
// from the reading goroutine, so it must be cheap (hub.Stream.Watched).
func (c *batchConn) SetWatched(watched func() bool) { c.watched.Store(&watched) }

// isWatched reports whether the camera has live viewers now.
func (c *batchConn) isWatched() bool {
	f := c.watched.Load()
	return f != nil && (*f)()
}

// Watchable is a connection that can be told when its camera has live
// viewers and be asked to say when it is about to read (the connections of
// this package are).
type Watchable interface {
	SetWatched(watched func() bool)
	SetBeforeRead(f func())
}

// SetWatched gives watched to c, or to the connection c wraps (through
// NetConn), when one of them is Watchable; it reports whether one was.
func SetWatched(c net.Conn, watched func() bool) bool {
	return withWatchable(c, func(w Watchable) { w.SetWatched(watched) })
}

// SetBeforeRead gives f to c, or to the connection c wraps (through
// NetConn), when one of them is Watchable (see batchConn.SetBeforeRead);
// it reports whether one was.
func SetBeforeRead(c net.Conn, f func()) bool {
	return withWatchable(c, func(w Watchable) { w.SetBeforeRead(f) })
}

// withWatchable calls do with c or the connection c wraps that is
// Watchable, and reports whether there was one.
func withWatchable(c net.Conn, do func(Watchable)) bool {
	for c != nil {
		if w, ok := c.(Watchable); ok {
			do(w)
			return true
		}
		n, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return false
		}
		c = n.NetConn()
	}
	return false
}

// deferDeadline is how far ahead a read deadline must be to be deferred;
// nearer ones (and the zero time) are applied at once, so that a deadline
// meant to interrupt a read still does.
const deferDeadline = time.Second

// SetReadDeadline sets the deadline of the reads of the socket.
func (c *batchConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.IsZero() || time.Until(t) < deferDeadline {
		c.pending = false
		return c.Conn.SetReadDeadline(t)
	}
	c.deadline, c.pending = t, true
	return nil
}

// SetDeadline sets the read deadline as SetReadDeadline does and the write
// deadline at once.
func (c *batchConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.Conn.SetWriteDeadline(t)
}

// readSocket reads the socket, under the latest read deadline.
func (c *batchConn) readSocket(p []byte) (int, error) {
	c.mu.Lock()
	if c.pending {
		c.pending = false
		if err := c.Conn.SetReadDeadline(c.deadline); err != nil {
			c.mu.Unlock()
			return 0, err
		}
	}
	c.mu.Unlock()
	if c.quiet != nil && c.batched() {
		return c.quiet.read(p)
	}
	return c.Conn.Read(p)
}

// batched reports whether reads are batched now: batching is on and the
// handshake is over.
func (c *batchConn) batched() bool { return c.interval > 0 && c.received >= batchAfter }

// NewConn wraps a media connection (RTMP) for batched reads, taking its
// read-ahead buffers from bufs; interval 0 turns batching off (read-ahead
// only).
func NewConn(c net.Conn, interval time.Duration, bufs *Buffers) net.Conn {
	return newBatchConn(c, interval, bufs)
}

// NewRTSPConn is NewConn for an RTSP connection: it also follows the
// stream's messages, so that the frames of a channel can be tapped (the
// connection is a Tapper).
func NewRTSPConn(c net.Conn, interval time.Duration, bufs *Buffers) net.Conn {
	bc := newBatchConn(c, interval, bufs)
	bc.split = &rtspSplitter{}
	return bc
}

// newBatchConn wraps c, taking its read-ahead buffers from bufs; interval
// 0 turns batching off (read-ahead only).
func newBatchConn(c net.Conn, interval time.Duration, bufs *Buffers) *batchConn {
	return &batchConn{Conn: c, interval: interval, bufs: bufs, quiet: newQuietReader(socket(c)),
		libraryRead: time.Now(), keepAlive: keepAliveAfter}
}

// socket follows NetConn from c down to the connection that wraps no
// other, the socket whose file descriptor the quiet reads use. A wrapper
// that has NetConn must read the same bytes as its socket (netlimit's
// connections, which only count themselves, do; a tls.Conn does not and
// is never given to the fast path): its own Read is bypassed.
func socket(c net.Conn) net.Conn {
	for {
		w, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return c
		}
		c = w.NetConn()
	}
}

// Read serves p from the read-ahead buffer, refilling it with one read of
// the connection when it is empty (after waiting for the next batch when
// the socket was emptied last time). Large reads bypass the buffer. On an
// RTSP connection the buffer goes through the splitter, which may keep
// frames for itself.
func (c *batchConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if c.end-c.start < max(c.need, 1) {
			if c.split == nil && c.start == c.end && len(p) >= readAhead {
				c.callBeforeRead()
				n, err := c.readSocket(p)
				c.received += int64(n)
				return n, err
			}
			if err := c.fill(); err != nil {
				return 0, err
			}
			continue
		}
		in := (*c.buf)[c.start:c.end]
		if c.split == nil {
			n := copy(p, in)
			c.consume(n)
			return n, nil
		}
		tapped := c.split.tapped
		n, used, need := c.split.step(p, in)
		c.consume(used)
		c.need = need
		if n > 0 {
			c.libraryRead = time.Now()
			return n, nil
		}
		if c.split.tapped != tapped && c.split.state == atBoundary && len(p) >= len(keepAliveFrame) &&
			time.Since(c.libraryRead) >= c.keepAlive {
			c.libraryRead = time.Now()
			return copy(p, keepAliveFrame), nil
		}
	}
}

// keepAliveFrame is an empty interleaved frame on channel 255, which no
// media uses: the RTSP library renews its read deadline (server) or its
// inbound-traffic clock (client) on every frame it reads and ignores
// frames of unknown channels. While taps take every frame of a stream
// (a camera without audio, say), the library is given one of these every
// keepAliveAfter (well under any read timeout) so that it does not take
// the connection for dead.
var keepAliveFrame = []byte{'$', 255, 0, 0}

const keepAliveAfter = 250 * time.Millisecond

// fill reads the socket once into the read-ahead buffer, after the unread
// bytes it still holds (moved to its front), in a buffer large enough for
// c.need bytes.
func (c *batchConn) fill() error {
	c.callBeforeRead()
	if c.drained && c.batched() && !c.isWatched() {
		time.Sleep(untilNextTick(time.Now(), c.interval))
	}
	rest := c.end - c.start
	switch {
	case c.buf == nil:
		c.buf = c.bufs.get()
	case len(*c.buf) < c.need:
		big := make([]byte, c.need) // a frame larger than the buffer: rare
		copy(big, (*c.buf)[c.start:c.end])
		c.release()
		c.buf, c.own = &big, true
	case c.start > 0:
		copy(*c.buf, (*c.buf)[c.start:c.end])
	}
	c.start, c.end = 0, rest
	n, err := c.readSocket((*c.buf)[rest:])
	c.end += n
	c.received += int64(n)
	c.drained = n < len(*c.buf)-rest
	if n == 0 {
		if rest == 0 {
			c.release()
		}
		if err == nil {
			err = io.ErrNoProgress
		}
		return err
	}
	return nil
}

// consume drops n bytes from the front of the read-ahead buffer, giving
// the buffer back once it is empty.
func (c *batchConn) consume(n int) {
	c.start += n
	if c.start == c.end {
		c.release()
	}
}

// release gives the emptied read-ahead buffer back: between batches a
// connection holds none, so the buffers in use follow the connections
// being read at the moment, not every connection.
func (c *batchConn) release() {
	if !c.own {
		c.bufs.put(c.buf)
	}
	c.buf, c.own = nil, false
	c.start, c.end = 0, 0
}

// Tap takes the interleaved frames of channel ch out of an RTSP
// connection's stream (see rtspSplitter). It reports false when the
// connection is not split.
func (c *batchConn) Tap(ch byte, tap FrameTap) bool {
	if c.split == nil {
		return false
	}
	c.split.tap(ch, tap)
	return true
}

// Buffers recycles the read-ahead buffers of a listener's (or a puller's)
// connections: between batches a connection holds none.
type Buffers struct{ pool sync.Pool }

// NewBuffers returns an empty pool of read-ahead buffers.
func NewBuffers() *Buffers {
	return &Buffers{pool: sync.Pool{New: func() any {
		b := make([]byte, readAhead)
		return &b
	}}}
}

func (r *Buffers) get() *[]byte  { return r.pool.Get().(*[]byte) }
func (r *Buffers) put(b *[]byte) { r.pool.Put(b) }

// untilNextTick returns the time from now to the next multiple of interval
// since the Unix epoch.
func untilNextTick(now time.Time, interval time.Duration) time.Duration {
	return interval - time.Duration(now.UnixNano()%int64(interval))
}
