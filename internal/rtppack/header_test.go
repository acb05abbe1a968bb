package rtppack

import (
	"bytes"
	"testing"

	"github.com/pion/rtp"
)

// TestPutHeader: the hand-written header is what pion/rtp marshals for
// the same fields, at the fields' extremes.
func TestPutHeader(t *testing.T) {
	cases := []rtp.Header{
		{PayloadType: 0, SequenceNumber: 0, Timestamp: 0, SSRC: 0},
		{PayloadType: 96, Marker: true, SequenceNumber: 1234, Timestamp: 90000, SSRC: 0x1234abcd},
		{PayloadType: 127, Marker: true, SequenceNumber: 65535, Timestamp: 0xffffffff, SSRC: 0xffffffff},
		{PayloadType: 127, SequenceNumber: 0x8001, Timestamp: 0x80000001, SSRC: 0x80000001},
	}
	for _, h := range cases {
		h.Version = 2
		want, err := h.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, HeaderSize)
		putHeader(got, h.PayloadType, h.Marker, h.SequenceNumber, h.Timestamp, h.SSRC)
		if !bytes.Equal(got, want) {
			t.Errorf("%+v: got % x, pion % x", h, got, want)
		}
	}
}

// TestDefaultMaxPacketSize: 0 means DefaultMaxPacketSize, for every codec.
func TestDefaultMaxPacketSize(t *testing.T) {
	for name, pk := range map[string]packer{
		"H.264": NewH264(96, 1, 0, 0).packer,
		"H.265": NewH265(96, 1, 0, 0).packer,
		"AAC":   NewMPEG4Audio(96, 1, 0, 0).packer,
	} {
		if pk.err != nil || len(pk.buf) != DefaultMaxPacketSize {
			t.Errorf("%s: buffer of %d bytes, error %v; want %d, none", name, len(pk.buf), pk.err, DefaultMaxPacketSize)
		}
	}
}
