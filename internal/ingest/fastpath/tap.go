// Package fastpath is ingest's fast read path for camera connections: it
// reads media connections in batches (one read per tick of a clock shared
// by all connections, with the socket's wake-ups held back on Linux), and
// on RTSP connections it follows the stream's messages so that the
// interleaved frames of a channel (the video) can be taken straight from
// the read buffer by a FrameTap, while everything else (requests, RTCP,
// audio, tunnels, whatever it does not recognise) still goes to the RTSP
// library, in order.
//
// It exists because the RTSP library's read path allocated for every
// packet and was half of the server's CPU with 200 cameras (see
// docs/benchmarks.md, fifth round). It relies on a few behaviours of
// gortsplib that gortsplib_contract_test.go pins: the library sets a read
// deadline before every message it reads, ignores interleaved frames of
// channels it does not know, and its client counts any inbound message as
// a sign of life. That is what lets the fast path defer deadlines and keep
// the library awake with empty frames on channel 255 (keepAliveFrame).
package fastpath

// FrameTap handles the payload of one interleaved frame, which is valid
// only during the call. It returns false to decline: the frame then goes
// to the library, and so do all later frames of the channel.
type FrameTap func(payload []byte) bool

// Tapper is the connection side of a tap. The connections of NewRTSPConn,
// and those of a Listener with SplitRTSP, are Tappers; a caller holding a
// net.Conn asserts it (the RTSP library hands back the connection it was
// given).
type Tapper interface {
	// Tap has the connection hand the frames of interleaved channel ch to
	// tap from now on, on the connection's reading goroutine. It reports
	// false when the connection does not follow RTSP (nothing is tapped).
	Tap(ch byte, tap FrameTap) bool
}
