// Package depack reassembles H.264 (RFC 6184) and H.265 (RFC 7798) access
// units from RTP packets for the RTSP ingest's hot path. It copies each
// packet's NAL unit data once, into a scratch buffer kept by the
// depacketiser, and hands out every access unit as one exact-size copy:
// two allocations per access unit and none per packet, so the packets
// themselves can live in a reused read buffer. (The RTSP library's decoder
// allocates for every packet and again for every fragmented NAL unit,
// which made the garbage collector a fifth of the server's CPU.)
//
// Only what standard packetisers send is handled: single NAL units,
// aggregation packets (STAP-A, AP) and fragmentation units (FU-A, FU).
// Anything else is reported as ErrUnsupported, and the caller is expected
// to give the stream to a general decoder from then on.
package depack

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/pion/rtp"
)

// ErrUnsupported reports a packetisation this package leaves to a general
// decoder: STAP-B, MTAP, FU-B, PACI, Annex-B start codes inside the
// payload.
var ErrUnsupported = errors.New("depack: packetisation not supported")

// scanAUs is how many access units are searched whole for Annex-B start
// codes inside NAL units, a vendor quirk (several NAL units sent as one)
// that shows from the first frames. After them only the NAL units of key
// frames and parameter sets are searched, where the quirk is usual; a
// valid NAL unit cannot contain a start code, and searching every byte of
// every frame would cost more than the rest of the depacketiser.
const scanAUs = 50

// Depacketizer turns the RTP packets of one H.264 or H.265 stream into
// access units. The zero value is not usable; use New.
type Depacketizer struct {
	h265     bool
	maxSize  int
	maxNALUs int

	buf     []byte // the access unit being assembled, NAL units back to back
	ends    []int  // end in buf of every complete NAL unit
	inFU    bool   // a fragmented NAL unit is open at the end of buf
	nextSeq uint16 // sequence number the open fragmentation unit expects
	ts      uint32 // timestamp of the access unit in buf
	scanned int    // access units scanned for start codes so far
}

// New returns a depacketiser for H.265 when isH265, H.264 otherwise.
func New(isH265 bool) *Depacketizer {
	d := &Depacketizer{h265: isH265, maxSize: h264.MaxAccessUnitSize, maxNALUs: h264.MaxNALUsPerAccessUnit}
	if isH265 {
		d.maxSize, d.maxNALUs = h265.MaxAccessUnitSize, h265.MaxNALUsPerAccessUnit
	}
	return d
}

// Decode adds one packet. It returns an access unit when one is complete:
// the current one when pkt carries the marker bit, or the previous one
// when pkt starts another (a sender that sets no marker). It returns nil
// and no error while an access unit is still incomplete. The returned NAL
// units share one new buffer that the depacketiser never touches again;
// pkt is not retained. After an error the access unit in progress is
// dropped.
func (d *Depacketizer) Decode(pkt *rtp.Packet) ([][]byte, error) {
	var done [][]byte
	if d.open() && pkt.Timestamp != d.ts {
		done = d.finish()
	}
	d.ts = pkt.Timestamp
	if err := d.add(pkt); err != nil {
		d.reset()
		return done, err
	}
	if done == nil && pkt.Marker && !d.inFU {
		done = d.finish()
	}
	return done, nil
}

// add adds the NAL unit data of one packet to the access unit.
func (d *Depacketizer) add(pkt *rtp.Packet) error {
	p := pkt.Payload
	read := layout264
	if d.h265 {
		read = layout265
	}
	l, err := read(p)
	if err != nil {
		return err
	}
	if d.inFU && l.packing != fragment {
		return fmt.Errorf("depack: NAL unit inside a fragmentation unit")
	}
	switch l.packing {
	case aggregated:
		return d.aggregated(p[l.offset:])
	case fragment:
		return d.addFragment(p[l.offset], p[l.offset+1:], l.header[:l.hlen], pkt.SequenceNumber)
	}
	return d.appendNALU(p)
}

// open reports whether an access unit is being assembled.
func (d *Depacketizer) open() bool { return len(d.ends) > 0 || d.inFU }

// Pending reports whether an access unit is being assembled: when it is,
// the next packet with another timestamp completes that one (and the unit
// Decode returns then has the earlier timestamp); when it is not, a unit
// Decode returns is the packet's own.
func (d *Depacketizer) Pending() bool { return d.open() }

func (d *Depacketizer) reset() {
	d.buf, d.ends, d.inFU = d.buf[:0], d.ends[:0], false
}

// keepScratch bounds the scratch buffer a depacketiser keeps between
// access units: one as large as a camera's key frames is kept (40 KB at
// 2 Mbit/s, about 1 MiB for 4K), a larger one is given back, so that a
// stream with huge access units costs allocations, not memory held.
const keepScratch = 1 << 20

// finish copies out the complete NAL units assembled so far (a fragment
// still open is dropped) and starts a new access unit.
func (d *Depacketizer) finish() [][]byte {
	defer func() {
		d.reset()
		if cap(d.buf) > keepScratch {
			d.buf = nil
		}
	}()
	if len(d.ends) == 0 {
		return nil
	}
	size := d.ends[len(d.ends)-1]
	// append, unlike make and copy, does not clear the memory first.
	out := append([]byte(nil), d.buf[:size]...)
	au := make([][]byte, len(d.ends))
	start := 0
	for i, end := range d.ends {
		au[i] = out[start:end:end]
		start = end
	}
	if d.scanned < scanAUs {
		d.scanned++
	}
	return au
}

// appendNALU adds one whole NAL unit to the access unit.
func (d *Depacketizer) appendNALU(n []byte) error {
	if len(n) == 0 {
		return fmt.Errorf("depack: empty NAL unit")
	}
	if err := d.checkStartCodes(n); err != nil {
		return err
	}
	if err := d.room(len(n), true); err != nil {
		return err
	}
	d.buf = append(d.buf, n...)
	d.ends = append(d.ends, len(d.buf))
	return nil
}

// room checks that n more bytes, and one more NAL unit when newNALU,
// keep the access unit within bounds.
func (d *Depacketizer) room(n int, newNALU bool) error {
	if newNALU && len(d.ends) >= d.maxNALUs {
		return fmt.Errorf("depack: more than %d NAL units in an access unit", d.maxNALUs)
	}
	if len(d.buf)+n > d.maxSize {
		return fmt.Errorf("depack: access unit larger than %d bytes", d.maxSize)
	}
	return nil
}

// checkStartCodes refuses NAL units that begin with an Annex-B start code,
// and those that contain one (see scanAUs).
func (d *Depacketizer) checkStartCodes(n []byte) error {
	if bytes.HasPrefix(n, []byte{0, 0, 1}) || bytes.HasPrefix(n, []byte{0, 0, 0, 1}) {
		return ErrUnsupported
	}
	if (d.scanned < scanAUs || d.keyOrParams(n)) && bytes.Contains(n, []byte{0, 0, 1}) {
		return ErrUnsupported
	}
	return nil
}

// keyOrParams reports whether NAL unit n is a parameter set or part of a
// key frame.
func (d *Depacketizer) keyOrParams(n []byte) bool {
	if d.h265 {
		t := h265.NALUType((n[0] >> 1) & 0x3f)
		return (t >= h265.NALUType_BLA_W_LP && t <= 23) || (t >= h265.NALUType_VPS_NUT && t <= h265.NALUType_PPS_NUT)
	}
	switch h264.NALUType(n[0] & 0x1f) {
	case h264.NALUTypeIDR, h264.NALUTypeSPS, h264.NALUTypePPS:
		return true
	}
	return false
}

// addFragment adds a fragmentation unit: FU header fu, then data; header
// is the NAL unit header the fragments rebuild. A unit with both the start
// and the end bit (not allowed by the RFCs, sent by some cameras for small
// frames) is a whole NAL unit.
func (d *Depacketizer) addFragment(fu byte, data, header []byte, seq uint16) error {
	start, end := fu&0x80 != 0, fu&0x40 != 0
	if !start {
		return d.continueFU(data, seq, end)
	}
	if d.inFU {
		return fmt.Errorf("depack: fragmentation unit started before the previous one ended")
	}
	if err := d.room(len(header)+len(data), true); err != nil {
		return err
	}
	d.buf = append(d.buf, header...)
	d.buf = append(d.buf, data...)
	d.inFU, d.nextSeq = true, seq+1
	if end {
		return d.closeFU()
	}
	return nil
}

// continueFU adds a middle or last fragment; a gap in the sequence numbers
// drops the fragmented NAL unit (and the access unit, since a picture with
// a hole is of no use to a recording).
func (d *Depacketizer) continueFU(data []byte, seq uint16, end bool) error {
	if !d.inFU {
		return errNoStart
	}
	if seq != d.nextSeq {
		return fmt.Errorf("depack: packet lost inside a fragmented NAL unit (sequence %d, expected %d)", seq, d.nextSeq)
	}
	if err := d.room(len(data), false); err != nil {
		return err
	}
	d.buf = append(d.buf, data...)
	d.nextSeq++
	if end {
		return d.closeFU()
	}
	return nil
}

// closeFU ends the open fragmented NAL unit.
func (d *Depacketizer) closeFU() error {
	d.inFU = false
	start := 0
	if len(d.ends) > 0 {
		start = d.ends[len(d.ends)-1]
	}
	if err := d.checkStartCodes(d.buf[start:]); err != nil {
		return err
	}
	d.ends = append(d.ends, len(d.buf))
	return nil
}

// errNoStart reports a fragment without its first part, which is what a
// stream joined in the middle of a NAL unit begins with.
var errNoStart = errors.New("depack: fragment without a start")

// IsNoStart reports whether err is the harmless error of a stream picked
// up in the middle of a fragmented NAL unit.
func IsNoStart(err error) bool { return errors.Is(err, errNoStart) }

// aggregated walks the (size, NAL unit) pairs of an aggregation packet.
func (d *Depacketizer) aggregated(payload []byte) error {
	if len(payload) == 0 {
		return fmt.Errorf("depack: empty aggregation packet")
	}
	for n := 0; len(payload) > 0; n++ {
		if len(payload) < 2 {
			return fmt.Errorf("depack: truncated aggregation packet")
		}
		size := int(payload[0])<<8 | int(payload[1])
		payload = payload[2:]
		if size == 0 && !d.h265 && n > 0 && allZero(payload) {
			return nil // zero padding after the last NAL unit of a STAP-A, as gortsplib discards it
		}
		if size == 0 || size > len(payload) {
			return fmt.Errorf("depack: bad NAL unit size %d in an aggregation packet", size)
		}
		if err := d.appendNALU(payload[:size]); err != nil {
			return err
		}
		payload = payload[size:]
	}
	return nil
}

// allZero reports whether b holds only zero bytes.
func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
