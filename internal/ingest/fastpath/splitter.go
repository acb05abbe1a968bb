package fastpath

import (
	"bytes"
	"strconv"
	"sync/atomic"
)

// rtspSplitter follows the structure of the byte stream a publisher sends
// over an RTSP connection (requests with their bodies, and '$' frames that
// interleave RTP and RTCP packets) so that the frames of chosen channels
// can be taken out of the stream and handled straight from the read
// buffer, while everything else still goes to the RTSP library in order.
// That spares the video packets the library's read path, which allocates
// every packet (see the package doc).
//
// It only ever takes whole frames at a message boundary it is sure of.
// Anything it does not recognise (an HTTP tunnel, TLS, bytes that are not
// RTSP) switches it to passing the rest of the connection through
// untouched, which is exactly what the library would have read without it.
type rtspSplitter struct {
	state splitState
	pass  int // bytes of the current message still to pass through

	// The text message being passed: its current line and what its
	// headers said so far.
	line          []byte
	lines         int
	contentLength int
	sawLength     bool

	taps atomic.Pointer[tapSet]
	// tapped counts the frames handed to taps, for the connection to
	// extend its read deadline (the library no longer sees those frames).
	tapped int
}

type splitState uint8

const (
	atBoundary splitState = iota // the next byte starts a message
	inText                       // inside the start line or headers of a text message
	passing                      // pass bytes through, then back to atBoundary
	passAll                      // not RTSP as understood here: pass everything
)

// Limits of what the splitter follows; past them it passes everything
// through and lets the library decide.
const (
	maxLineLen    = 8 << 10
	maxLines      = 256
	maxBodyLength = 1 << 20
)

// tapSet is an immutable set of taps by channel, replaced as a whole.
type tapSet struct{ byChannel map[byte]FrameTap }

// tap starts taking the frames of channel ch (nil: gives the channel back
// to the library). It may be called from another goroutine than the one
// reading (which calls it to give a declined channel back).
func (s *rtspSplitter) tap(ch byte, t FrameTap) {
	for {
		old := s.taps.Load()
		next := map[byte]FrameTap{}
		if old != nil {
			for c, ot := range old.byChannel {
				next[c] = ot
			}
		}
		if t == nil {
			delete(next, ch)
		} else {
			next[ch] = t
		}
		if s.taps.CompareAndSwap(old, &tapSet{byChannel: next}) {
			return
		}
	}
}

// untap gives channel ch back to the library.
func (s *rtspSplitter) untap(ch byte) { s.tap(ch, nil) }

// handler returns the tap of channel ch, if any.
func (s *rtspSplitter) handler(ch byte) FrameTap {
	if ts := s.taps.Load(); ts != nil {
		return ts.byChannel[ch]
	}
	return nil
}

// step moves through in: it copies the bytes meant for the library into
// out and hands the tapped frames to their taps. It returns how many bytes
// it wrote to out and consumed from in; need > 0 says that nothing more
// can be done until in[used:] holds need bytes (a tapped frame is
// incomplete).
func (s *rtspSplitter) step(out, in []byte) (wrote, used, need int) {
	for used < len(in) && wrote < len(out) {
		rest := in[used:]
		switch s.state {
		case passAll:
			n := copy(out[wrote:], rest)
			wrote, used = wrote+n, used+n
		case passing:
			n := copy(out[wrote:], rest[:min(s.pass, len(rest))])
			wrote, used, s.pass = wrote+n, used+n, s.pass-n
			if s.pass == 0 {
				s.state = atBoundary
			}
		case inText:
			n := s.scanText(rest[:min(len(rest), len(out)-wrote)])
			copy(out[wrote:], rest[:n])
			wrote, used = wrote+n, used+n
		case atBoundary:
			if rest[0] != '$' {
				if len(rest) < 2 {
					return wrote, used, 2
				}
				s.startText(rest[0], rest[1])
				continue
			}
			if len(rest) < 4 {
				return wrote, used, 4
			}
			size := 4 + (int(rest[2])<<8 | int(rest[3]))
			if t := s.handler(rest[1]); t != nil {
				if len(rest) < size {
					return wrote, used, size
				}
				if t(rest[4:size]) {
					used += size
					s.tapped++
					continue
				}
				s.untap(rest[1])
			}
			s.state, s.pass = passing, size
		}
	}
	return wrote, used, 0
}

// startText begins a text message that starts with b0 b1, or gives up on
// the stream when no RTSP message starts so (the library would skip such
// bytes one by one, looking for a message).
func (s *rtspSplitter) startText(b0, b1 byte) {
	switch string([]byte{b0, b1}) {
	case "AN", "DE", "GE", "OP", "PA", "PL", "RE", "SE", "TE", "RT":
		s.state = inText
		s.line, s.lines, s.contentLength, s.sawLength = s.line[:0], 0, 0, false
	default:
		s.state = passAll
	}
}

// scanText follows the lines of a text message in p and returns how many
// bytes of p belong to its start line and headers (all of p, or up to the
// end of the headers, after which the body is passed as a count).
func (s *rtspSplitter) scanText(p []byte) int {
	for i, b := range p {
		if b != '\n' {
			if len(s.line) >= maxLineLen {
				s.state = passAll
				return len(p)
			}
			s.line = append(s.line, b)
			continue
		}
		line := bytes.TrimSuffix(s.line, []byte{'\r'})
		s.line = s.line[:0]
		s.lines++
		switch {
		case s.lines > maxLines:
			s.state = passAll
			return len(p)
		case s.lines == 1:
			// An HTTP tunnel carries RTSP encoded or framed: not followed.
			if bytes.HasPrefix(line, []byte("GET ")) || bytes.HasPrefix(line, []byte("POST ")) {
				s.state = passAll
				return len(p)
			}
		case len(line) == 0:
			s.endHeaders()
			return i + 1
		default:
			s.header(line)
			if s.state == passAll {
				return len(p)
			}
		}
	}
	return len(p)
}

// header notes a Content-Length header line.
func (s *rtspSplitter) header(line []byte) {
	name, value, ok := bytes.Cut(line, []byte{':'})
	if !ok || !bytes.EqualFold(bytes.TrimSpace(name), []byte("Content-Length")) {
		return
	}
	n, err := strconv.Atoi(string(bytes.TrimSpace(value)))
	if s.sawLength || err != nil || n < 0 || n > maxBodyLength {
		s.state = passAll // let the library judge a message it may read otherwise
		return
	}
	s.contentLength, s.sawLength = n, true
}

// endHeaders passes the body, if any, and returns to the boundary.
func (s *rtspSplitter) endHeaders() {
	if s.contentLength > 0 {
		s.state, s.pass = passing, s.contentLength
		return
	}
	s.state = atBoundary
}
