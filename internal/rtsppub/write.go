package rtsppub

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

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
	if t.emit == nil {
		t.emit = func(pkt []byte) error { return s.writePacket(t, pkt) }
	}
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

// writePacket frames one RTP packet on t's channel and writes it.
func (s *Session) writePacket(t *trackState, pkt []byte) error {
	n := 4 + len(pkt)
	if n > maxFrame {
		return s.fail(fmt.Errorf("rtsppub: RTP packet of %d bytes is too large for interleaving", len(pkt)))
	}
	if cap(s.frame) < n {
		s.frame = make([]byte, 0, max(n, 1500))
	}
	f := s.frame[:n]
	f[0], f[1] = '$', t.channel
	binary.BigEndian.PutUint16(f[2:4], uint16(len(pkt)))
	copy(f[4:], pkt)
	if _, err := s.nc.Write(f); err != nil {
		return s.fail(fmt.Errorf("rtsppub: write: %w", err))
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
	f := make([]byte, 4+len(b))
	f[0], f[1] = '$', t.channel+1
	binary.BigEndian.PutUint16(f[2:4], uint16(len(b)))
	copy(f[4:], b)
	if _, err := s.nc.Write(f); err != nil {
		return fmt.Errorf("rtsppub: write: %w", err)
	}
	t.reported, t.lastReport = true, ntpTime
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
