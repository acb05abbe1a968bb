// Package coalesce gathers a connection's small writes into fewer system
// calls.
//
// The edge agent relays each camera to the cloud as RTSP interleaved over
// TCP, and its publisher (package rtsppub, as gortsplib's client before
// it) writes every RTP packet (about 1.4 KB) on its own: some 250 system
// calls a second for a 2 Mbit/s camera, which was about 40 % of the
// agent's CPU while relaying. A Conn keeps those
// writes for at most a short window and sends them with one write, so a
// video frame's packets (written in a burst) leave together. Anything that
// is not an RTP packet (RTSP requests, RTCP) is sent at once with what is
// waiting, and so is a full buffer. Between bursts a Conn holds no
// buffer: the connections of a process share a pool (Buffers).
package coalesce

import (
	"errors"
	"net"
	"sync"
	"time"
)

// Defaults for Wrap.
const (
	// DefaultWindow is how long a write may wait to be joined by others:
	// a frame's packets come within a millisecond or two, and live video
	// hardly notices 5 ms more.
	DefaultWindow = 5 * time.Millisecond
	// DefaultLimit is how many bytes are gathered before they are sent
	// whatever the window: a little more than a 2 Mbit/s camera sends in
	// one of the agent's 100 ms read batches, so that a batch is about one
	// write (a key frame's, a few).
	DefaultLimit = 32 << 10
)

// slack is room in a buffer past the limit for the write that crosses it
// (the relay's RTP packets are at most 1440 bytes); a larger one
// grows the buffer, which is then not kept.
const slack = 2 << 10

// Buffers lends gathering buffers to the connections of a process, so that
// a connection holds one only while it gathers a burst.
type Buffers struct {
	pool  sync.Pool
	limit int
}

// NewBuffers returns a pool of buffers that gather up to limit bytes
// (DefaultLimit when 0 or less).
func NewBuffers(limit int) *Buffers {
	if limit <= 0 {
		limit = DefaultLimit
	}
	b := &Buffers{limit: limit}
	b.pool.New = func() any { s := make([]byte, 0, limit+slack); return &s }
	return b
}

func (b *Buffers) get() *[]byte { return b.pool.Get().(*[]byte) }

func (b *Buffers) put(s *[]byte) {
	if cap(*s) != b.limit+slack {
		return // grown by an outsized write: not kept
	}
	*s = (*s)[:0]
	b.pool.Put(s)
}

// Conn is a net.Conn whose writes are gathered (see the package comment).
// Reads, addresses and read deadlines are the wrapped connection's. Write
// returns the error of an earlier gathered write that failed; once one
// fails, the wrapped connection is closed, so that a reader of it stops
// too. A Conn is safe for concurrent use.
type Conn struct {
	net.Conn
	window time.Duration
	bufs   *Buffers

	mu       sync.Mutex
	buf      *[]byte   // nil between bursts
	deadline time.Time // the write deadline asked for, applied at each flush
	timer    *time.Timer
	armed    bool
	err      error
	flushes  int64
	writes   int64
}

// Wrap returns c with its writes gathered for up to window (DefaultWindow
// when 0) or the limit of bufs (a pool of its own when nil).
func Wrap(c net.Conn, window time.Duration, bufs *Buffers) *Conn {
	if window <= 0 {
		window = DefaultWindow
	}
	if bufs == nil {
		bufs = NewBuffers(0)
	}
	w := &Conn{Conn: c, window: window, bufs: bufs}
	w.timer = time.AfterFunc(time.Hour, w.timed)
	w.timer.Stop()
	return w
}

// rtp reports whether p is one RTSP interleaved frame on an RTP channel
// (even channel numbers carry RTP, odd ones RTCP).
func rtp(p []byte) bool {
	return len(p) >= 4 && p[0] == '$' && p[1]%2 == 0
}

// Write gathers p (it is copied) and sends what is gathered when p is not
// an RTP packet or the limit is reached; otherwise within the window.
func (w *Conn) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, w.err
	}
	w.writes++
	if w.buf == nil {
		w.buf = w.bufs.get()
	}
	*w.buf = append(*w.buf, p...)
	if !rtp(p) || len(*w.buf) >= w.bufs.limit {
		if err := w.flushLocked(); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	if !w.armed {
		w.armed = true
		w.timer.Reset(w.window)
	}
	return len(p), nil
}

// Flush sends what is gathered now, for a writer that knows its burst has
// ended (a relay whose queue is empty): the burst then leaves without
// waiting out the window, and without the window's timer waking a
// goroutine. It returns the error of this or an earlier write.
func (w *Conn) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.buf == nil {
		return w.err
	}
	return w.flushLocked()
}

// timed sends what is gathered when the window ends.
func (w *Conn) timed() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.armed {
		_ = w.flushLocked()
	}
}

// flushLocked sends the buffer in one write under the asked deadline.
func (w *Conn) flushLocked() error {
	if w.armed {
		w.armed = false
		w.timer.Stop()
	}
	if w.buf == nil || w.err != nil {
		return w.err
	}
	err := w.Conn.SetWriteDeadline(w.deadline)
	if err == nil {
		_, err = w.Conn.Write(*w.buf)
		w.flushes++
	}
	w.bufs.put(w.buf)
	w.buf = nil
	if err != nil {
		w.fail(err)
	}
	return err
}

// fail records err for later writes and closes the connection.
func (w *Conn) fail(err error) {
	w.err = err
	_ = w.Conn.Close()
}

// SetWriteDeadline records t for the next write to the connection (a
// flush), without the cost of setting it on every gathered write.
func (w *Conn) SetWriteDeadline(t time.Time) error {
	w.mu.Lock()
	w.deadline = t
	w.mu.Unlock()
	return nil
}

// SetDeadline sets the read deadline and records the write deadline.
func (w *Conn) SetDeadline(t time.Time) error {
	_ = w.SetWriteDeadline(t)
	return w.Conn.SetReadDeadline(t)
}

// Close sends what is gathered (briefly: a peer that does not read is not
// waited for) and closes the connection. When a write is in progress (a
// stalled peer), the connection is closed at once, which ends that write.
func (w *Conn) Close() error {
	if !w.mu.TryLock() {
		_ = w.Conn.Close()
		w.mu.Lock()
	}
	if w.err == nil && w.buf != nil {
		if d := time.Now().Add(time.Second); w.deadline.IsZero() || w.deadline.After(d) {
			w.deadline = d
		}
		_ = w.flushLocked()
	}
	if w.armed {
		w.armed = false
		w.timer.Stop()
	}
	if w.err == nil {
		w.err = net.ErrClosed
	}
	w.mu.Unlock()
	err := w.Conn.Close()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Stats is how many writes were asked for and how many reached the
// connection (their ratio is what gathering saved).
func (w *Conn) Stats() (writes, flushes int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writes, w.flushes
}
