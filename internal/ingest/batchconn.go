package ingest

import (
	"net"
	"sync"
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

// DefaultReadBatch is the default Config.ReadBatch.
const DefaultReadBatch = 100 * time.Millisecond

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
	bufs     *readBuffers

	buf        *[]byte // from readBuffers while it holds unread bytes
	start, end int     // unread bytes are (*buf)[start:end]
	received   int64
	drained    bool // the last read returned less than the buffer: the socket was empty
}

// newBatchConn wraps c, taking its read-ahead buffers from bufs; interval
// 0 turns batching off (read-ahead only).
func newBatchConn(c net.Conn, interval time.Duration, bufs *readBuffers) *batchConn {
	return &batchConn{Conn: c, interval: interval, bufs: bufs}
}

// Read serves p from the read-ahead buffer, refilling it with one read of
// the connection when it is empty (after waiting for the next batch when
// the socket was emptied last time). Large reads bypass the buffer.
func (c *batchConn) Read(p []byte) (int, error) {
	if c.start == c.end {
		if len(p) >= readAhead {
			return c.Conn.Read(p)
		}
		if c.drained && c.interval > 0 && c.received >= batchAfter {
			time.Sleep(untilNextTick(time.Now(), c.interval))
		}
		c.buf = c.bufs.get()
		n, err := c.Conn.Read(*c.buf)
		c.start, c.end = 0, n
		c.received += int64(n)
		c.drained = n < readAhead
		if n == 0 {
			c.release()
			return 0, err
		}
	}
	n := copy(p, (*c.buf)[c.start:c.end])
	c.start += n
	if c.start == c.end {
		c.release()
	}
	return n, nil
}

// release gives the emptied read-ahead buffer back: between batches a
// connection holds none, so the buffers in use follow the connections
// being read at the moment, not every connection.
func (c *batchConn) release() {
	c.bufs.put(c.buf)
	c.buf = nil
}

// readBuffers recycles the read-ahead buffers of a listener's (or a
// puller's) connections.
type readBuffers struct{ pool sync.Pool }

func newReadBuffers() *readBuffers {
	return &readBuffers{pool: sync.Pool{New: func() any {
		b := make([]byte, readAhead)
		return &b
	}}}
}

func (r *readBuffers) get() *[]byte  { return r.pool.Get().(*[]byte) }
func (r *readBuffers) put(b *[]byte) { r.pool.Put(b) }

// untilNextTick returns the time from now to the next multiple of interval
// since the Unix epoch.
func untilNextTick(now time.Time, interval time.Duration) time.Duration {
	return interval - time.Duration(now.UnixNano()%int64(interval))
}
