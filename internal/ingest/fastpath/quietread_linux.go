package fastpath

import (
	"io"
	"net"
	"os"
	"syscall"
)

// quietReader reads a batched TCP connection without the kernel waking the
// Go netpoller for every burst that arrives between batches (which, with
// hundreds of cameras, kept an OS thread going to sleep and waking up
// thousands of times a second). While batched, the socket's SO_RCVLOWAT
// is high, and Linux does not signal a TCP socket readable below its low
// mark; each batch takes what is queued with one non-blocking read, which
// the mark does not limit. Only when the socket is found empty is the mark
// lowered to 1 for the wait (the kernel signals at once if data came in
// the meantime), and it is raised again after the next read.
type quietReader struct {
	raw  syscall.RawConn
	high bool // SO_RCVLOWAT is quietLowat

	// The state of the read in progress, and the callbacks given to raw,
	// made once: closures capturing a read's variables would be allocated
	// on every read (10 a second per camera).
	p           []byte
	n           int
	rerr        error
	readFn      func(fd uintptr) bool
	raiseMarkFn func(fd uintptr)
}

// quietLowat is above what a camera sends between two batches (1 MiB is
// 100 ms at 80 Mbit/s); it also bounds the TCP window the kernel offers.
const quietLowat = 1 << 20

// newQuietReader returns nil when c is not a TCP connection.
func newQuietReader(c net.Conn) *quietReader {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return nil
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	q := &quietReader{raw: raw}
	q.readFn, q.raiseMarkFn = q.readFD, raiseMark
	return q
}

// read reads what is queued into p, waiting (under the connection's read
// deadline) only when nothing is.
func (q *quietReader) read(p []byte) (int, error) {
	q.p, q.n, q.rerr = p, 0, nil
	err := q.raw.Read(q.readFn)
	n, rerr := q.n, q.rerr
	q.p = nil
	switch {
	case err != nil:
		return 0, err
	case rerr != nil:
		return 0, &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", rerr)}
	case n == 0:
		return 0, io.EOF
	}
	if !q.high {
		q.high = true
		_ = q.raw.Control(q.raiseMarkFn)
	}
	return n, nil
}

// readFD is one non-blocking read of the socket into q.p; it lowers the
// mark and asks to wait when the socket is empty.
func (q *quietReader) readFD(fd uintptr) bool {
	for {
		q.n, q.rerr = syscall.Read(int(fd), q.p)
		if q.rerr != syscall.EINTR {
			break
		}
	}
	if q.rerr == syscall.EAGAIN {
		if q.high {
			q.high = false
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVLOWAT, 1)
		}
		return false // wait until readable
	}
	return true
}

// raiseMark sets the socket's high low-water mark.
func raiseMark(fd uintptr) {
	_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVLOWAT, quietLowat)
}
