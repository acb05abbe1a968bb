package depack

import (
	"testing"

	"github.com/pion/rtp"
)

// FuzzDecode feeds arbitrary packets (each input is split into payloads by
// its own length bytes) and checks that every access unit returned is
// within bounds and made of non-empty NAL units.
func FuzzDecode(f *testing.F) {
	f.Add(false, []byte{3, 0x65, 1, 2, 4, 0x7c, 0x85, 9, 9, 3, 0x7c, 0x45, 8})
	f.Add(true, []byte{4, 0x26, 1, 5, 6, 5, 0x62, 1, 0x93, 7, 7})
	f.Add(false, []byte{7, 24, 0, 2, 0x67, 1, 0, 1})
	f.Fuzz(func(t *testing.T, isH265 bool, data []byte) {
		d := New(isH265)
		d.maxSize = 1 << 16
		var seq uint16
		for len(data) > 0 {
			n := int(data[0])
			data = data[1:]
			if n > len(data) {
				n = len(data)
			}
			pkt := &rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: uint32(seq / 4), Marker: n%3 == 0}, Payload: data[:n]}
			data = data[n:]
			seq++
			au, _ := d.Decode(pkt)
			size := 0
			for _, nal := range au {
				if len(nal) == 0 {
					t.Fatal("empty NAL unit returned")
				}
				size += len(nal)
			}
			if size > d.maxSize || len(au) > d.maxNALUs {
				t.Fatalf("access unit of %d bytes and %d NAL units", size, len(au))
			}
		}
	})
}
