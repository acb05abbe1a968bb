package rtsppub

import (
	"errors"
	"fmt"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/ntp"
	"github.com/pion/rtcp"
)

// ErrBadUnit is returned (wrapped) by Write for a unit that cannot be
// packetised; nothing of it was sent and the session goes on.
var ErrBadUnit = errors.New("rtsppub: unit not sent")

// maxFrame is the largest interleaved frame: the 4-byte header and an RTP
// packet whose length fits its 16-bit field.
const maxFrame = 4 + 0xffff

// Write sends one unit of track i (0-based) whose RTP timestamp is ts and
// wall-clock time ntp. sync marks a unit whose PTS equals its DTS: only
// those carry sender reports, so that the report's RTP time is the unit's
// own. An error ends the session (the connection is closed): later writes
// return it too.
func (s *Session) Write(i int, au [][]byte, ts uint32, ntpTime time.Time, sync bool) error {
	if s.failed != nil {
		return s.failed
	}
	if i < 0 || i >= len(s.tracks) {
		return fmt.Errorf("rtsppub: unit of unknown track %d", i)
	}
	select {
	case <-s.readDone:
		s.failed = s.Wait()
		return s.failed
	default:
	}
	t := s.tracks[i]
	_ = s.nc.SetWriteDeadline(time.Now().Add(s.timeout))
	if err := t.Pack.Packetize(au, ts, t.emit); err != nil {
		if s.failed != nil {
			return s.failed
		}
		return fmt.Errorf("%w: track %d: %w", ErrBadUnit, i, err) // the session goes on
	}
	// After the unit's packets: a server (gortsplib's) learns a track's
	// SSRC from its RTP packets and drops reports of an SSRC it has not seen.
	if sync && (!t.reported || ntpTime.Sub(t.lastReport) >= s.period || ntpTime.Before(t.lastReport)) {
		if err := s.report(t, ts, ntpTime); err != nil {
			return s.fail(err)
		}
	}
	return nil
}

// Flush sends at once what the connection still gathers of the packets
// written (when Config.Wrap gathers writes: a connection with a Flush
// method, coalesce.Conn); a writer calls it at the end of a burst of
// units. Otherwise it does nothing.
func (s *Session) Flush() error {
	if s.failed != nil {
		return s.failed
	}
	if s.flusher == nil {
		return nil
	}
	if err := s.flusher.Flush(); err != nil {
		return s.fail(fmt.Errorf("rtsppub: write: %w", err))
	}
	return nil
}

// writePacket frames one RTP packet on t's channel and writes it.
func (s *Session) writePacket(t *trackState, pkt []byte) error {
	if err := s.writeFrame(t.channel, pkt); err != nil {
		return s.fail(err)
	}
	t.packets++
	t.octets += uint32(len(pkt) - 12)
	return nil
}

// report sends an RTCP sender report of t that maps ts to ntpTime.
func (s *Session) report(t *trackState, ts uint32, ntpTime time.Time) error {
	sr := rtcp.SenderReport{SSRC: t.SSRC, NTPTime: ntp.Encode(ntpTime), RTPTime: ts, PacketCount: t.packets, OctetCount: t.octets}
	b, err := sr.Marshal()
	if err != nil {
		return fmt.Errorf("rtsppub: sender report: %w", err)
	}
	if err := s.writeFrame(t.channel+1, b); err != nil {
		return err
	}
	t.reported, t.lastReport = true, ntpTime
	return nil
}

// writeFrame writes payload as one interleaved frame on channel ch, built
// in the session's reused buffer (one write, so that package coalesce sees
// a whole frame).
func (s *Session) writeFrame(ch byte, payload []byte) error {
	fr := base.InterleavedFrame{Channel: int(ch), Payload: payload}
	n := fr.MarshalSize()
	if n > maxFrame {
		return fmt.Errorf("rtsppub: packet of %d bytes is too large for interleaving", len(payload))
	}
	if cap(s.frame) < n {
		s.frame = make([]byte, max(n, 1500))
	}
	n, _ = fr.MarshalTo(s.frame[:cap(s.frame)])
	if _, err := s.nc.Write(s.frame[:n]); err != nil {
		return fmt.Errorf("rtsppub: write: %w", err)
	}
	return nil
}

// fail keeps the first write failure and closes the connection.
func (s *Session) fail(err error) error {
	if s.failed == nil {
		s.failed = err
		s.closeOnce.Do(func() { _ = s.nc.Close() })
	}
	return s.failed
}
