package rtppack

import "fmt"

// fuFormat is how a video codec fragments a NAL unit that does not fit a
// packet: extra bytes of payload and FU header open each fragment, written
// by head from the NAL unit's header (whose skip bytes the fragments do not
// repeat); the FU header, at index extra-1, carries the start and end bits
// and typ.
type fuFormat struct {
	codec string
	extra int
	skip  int
	// minNALU is the shortest NAL unit a receiver decodes (its header).
	minNALU int
	head    func(payload, nalu []byte) (typ byte)
}

// packetizeNALUs emits au's NAL units at ts: each that fits as a single
// NAL unit packet, a larger one as fragments; the marker bit is on the
// last packet. Every NAL unit is checked before anything is emitted.
func packetizeNALUs(pk *packer, fu *fuFormat, au [][]byte, ts uint32, emit Emit) error {
	if pk.err != nil {
		return pk.err
	}
	if len(au) == 0 {
		return ErrEmptyAU
	}
	for i, nalu := range au {
		switch {
		case len(nalu) == 0:
			return fmt.Errorf("%w: %s NAL unit %d of %d", ErrEmptyNALU, fu.codec, i, len(au))
		case len(nalu) < fu.minNALU:
			return fmt.Errorf("%w: %s NAL unit %d of %d has %d byte(s)", ErrShortNALU, fu.codec, i, len(au), len(nalu))
		}
	}
	maxPayload := len(pk.payload())
	for i, nalu := range au {
		last := i == len(au)-1
		var err error
		if len(nalu) <= maxPayload {
			copy(pk.payload(), nalu)
			err = pk.send(len(nalu), ts, last, emit)
		} else {
			err = fragment(pk, fu, nalu, ts, last, emit)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// fragment sends a NAL unit larger than a packet's payload as fragments:
// the start bit on the first, the end bit on the last. As the NAL unit does
// not fit one packet there are always at least two.
func fragment(pk *packer, fu *fuFormat, nalu []byte, ts uint32, last bool, emit Emit) error {
	payload := pk.payload()
	avail := len(payload) - fu.extra
	typ := fu.head(payload, nalu)
	start := byte(0x80)
	for data := nalu[fu.skip:]; len(data) > 0; {
		n := min(len(data), avail)
		end := n == len(data)
		payload[fu.extra-1] = start | typ
		if end {
			payload[fu.extra-1] |= 0x40
		}
		copy(payload[fu.extra:], data[:n])
		data = data[n:]
		if err := pk.send(fu.extra+n, ts, last && end, emit); err != nil {
			return err
		}
		start = 0
	}
	return nil
}
