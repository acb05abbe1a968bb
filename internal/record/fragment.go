package record

import (
	"encoding/binary"
)

// This file writes one fMP4 fragment (moof + mdat) by hand. It lays the
// boxes out exactly as mediacommon's fmp4.Part.Marshal does (a test checks
// the bytes are identical), without its reflection-driven box library and
// without copying each sample's payload into an intermediate buffer: the
// samples keep referencing the hub units' payloads (immutable and shared)
// until the fragment is written into one pooled buffer. Recording costs a
// few allocations per fragment instead of about fifty per frame.

// Box layout constants (ISO/IEC 14496-12).
const (
	boxHeaderSize = 8
	mfhdSize      = boxHeaderSize + 4 + 4     // full box header, sequence_number
	tfhdSize      = boxHeaderSize + 4 + 4     // full box header, track_ID
	tfdtSize      = boxHeaderSize + 4 + 8     // full box header, version 1 base time
	trunFixedSize = boxHeaderSize + 4 + 4 + 4 // full box header, sample_count, data_offset

	tfhdDefaultBaseIsMoof = 0x020000

	trunDataOffsetPresent = 0x001
	trunDurationPresent   = 0x100
	trunSizePresent       = 0x200
	trunFlagsPresent      = 0x400
	trunCTOPresent        = 0x800

	sampleIsNonSync = 1 << 16
)

// fragSample is one buffered fMP4 sample: its timing, and the payload of the
// hub unit it came from, referenced rather than copied; nil once the
// payload was written to the spool ahead of the fragment (the lead track's,
// see writer.stageLead).
type fragSample struct {
	dur     uint32
	cto     int32 // PTS - DTS
	nonSync bool
	size    uint32   // bytes in mdat
	payload [][]byte // NAL units (video) or frame(s) (audio)
}

// fragTrack is one track's part of a fragment.
type fragTrack struct {
	id       int
	baseTime uint64 // tfdt, in the track's time scale
	// lengthPrefixed writes every element of a sample's payload with a
	// 4-byte big-endian length in front (AVCC video); otherwise the
	// elements are concatenated (audio).
	lengthPrefixed bool
	samples        []fragSample
}

// add appends a sample referencing payload. It reports the sample's size in
// mdat.
func (t *fragTrack) add(dur uint32, cto int32, nonSync bool, payload [][]byte) int {
	size := 0
	for _, b := range payload {
		size += len(b)
	}
	if t.lengthPrefixed {
		size += 4 * len(payload)
	}
	t.samples = append(t.samples, fragSample{dur: dur, cto: cto, nonSync: nonSync, size: uint32(size), payload: payload})
	return size
}

// appendPayload appends a sample's payload as it goes in mdat.
func (t *fragTrack) appendPayload(dst []byte, payload [][]byte) []byte {
	for _, b := range payload {
		if t.lengthPrefixed {
			dst = binary.BigEndian.AppendUint32(dst, uint32(len(b)))
		}
		dst = append(dst, b...)
	}
	return dst
}

// reset empties the track, dropping its references to unit payloads.
func (t *fragTrack) reset() {
	clear(t.samples)
	t.samples = t.samples[:0]
}

// trunLayout returns the trun flags and the size of one trun entry.
func (t *fragTrack) trunLayout() (flags uint32, entry int) {
	flags = trunDataOffsetPresent | trunDurationPresent | trunSizePresent
	for i := range t.samples {
		if t.samples[i].nonSync {
			flags |= trunFlagsPresent
		}
		if t.samples[i].cto != 0 {
			flags |= trunCTOPresent
		}
	}
	entry = 8
	if flags&trunFlagsPresent != 0 {
		entry += 4
	}
	if flags&trunCTOPresent != 0 {
		entry += 4
	}
	return flags, entry
}

// fragmentSize returns the sizes of the moof box and of the mdat payload of
// a fragment of tracks (tracks without samples are left out).
func fragmentSize(tracks []*fragTrack) (moof, data int) {
	moof = boxHeaderSize + mfhdSize
	for _, t := range tracks {
		if len(t.samples) == 0 {
			continue
		}
		_, entry := t.trunLayout()
		moof += boxHeaderSize + tfhdSize + tfdtSize + trunFixedSize + entry*len(t.samples)
		for i := range t.samples {
			data += int(t.samples[i].size)
		}
	}
	return moof, data
}

// appendFragment appends the moof and mdat boxes of one fragment with
// sequence number seq to dst. Tracks without samples are left out. The mdat
// payload must stay under 4 GiB (fragments are bounded far below).
func appendFragment(dst []byte, seq uint32, tracks []*fragTrack) []byte {
	moofSize, dataSize := fragmentSize(tracks)
	total := moofSize + boxHeaderSize + dataSize
	if cap(dst)-len(dst) < total {
		grown := make([]byte, len(dst), len(dst)+total+total/4) // room for a slightly larger next one
		copy(grown, dst)
		dst = grown
	}
	dst = appendFragmentHead(dst, seq, tracks, 0)
	return appendPayloads(dst, tracks)
}

// appendFragmentHead appends the moof box and the mdat header of a fragment
// whose payload starts pad bytes into the mdat: the samples of the tracks
// in order, each track's contiguous. The pad bytes are not referenced by any
// sample (players follow the trun data offsets); they let the header be
// written into room reserved before the payload (see writer.stageLead).
func appendFragmentHead(dst []byte, seq uint32, tracks []*fragTrack, pad int) []byte {
	moofSize, dataSize := fragmentSize(tracks)
	be := binary.BigEndian
	dst = appendBoxHeader(dst, moofSize, "moof")
	dst = appendBoxHeader(dst, mfhdSize, "mfhd")
	dst = be.AppendUint32(dst, 0) // version 0, flags 0
	dst = be.AppendUint32(dst, seq)
	dataOffset := moofSize + boxHeaderSize + pad // from the moof start to the first sample
	for _, t := range tracks {
		if len(t.samples) == 0 {
			continue
		}
		flags, entry := t.trunLayout()
		trunSize := trunFixedSize + entry*len(t.samples)
		dst = appendBoxHeader(dst, boxHeaderSize+tfhdSize+tfdtSize+trunSize, "traf")
		dst = appendBoxHeader(dst, tfhdSize, "tfhd")
		dst = be.AppendUint32(dst, tfhdDefaultBaseIsMoof) // version 0
		dst = be.AppendUint32(dst, uint32(t.id))
		dst = appendBoxHeader(dst, tfdtSize, "tfdt")
		dst = be.AppendUint32(dst, 1<<24) // version 1, flags 0
		dst = be.AppendUint64(dst, t.baseTime)
		dst = appendBoxHeader(dst, trunSize, "trun")
		dst = be.AppendUint32(dst, 1<<24|flags) // version 1: signed composition offsets
		dst = be.AppendUint32(dst, uint32(len(t.samples)))
		dst = be.AppendUint32(dst, uint32(dataOffset))
		for i := range t.samples {
			s := &t.samples[i]
			dst = be.AppendUint32(dst, s.dur)
			dst = be.AppendUint32(dst, s.size)
			if flags&trunFlagsPresent != 0 {
				var f uint32
				if s.nonSync {
					f = sampleIsNonSync
				}
				dst = be.AppendUint32(dst, f)
			}
			if flags&trunCTOPresent != 0 {
				dst = be.AppendUint32(dst, uint32(s.cto))
			}
			dataOffset += int(s.size)
		}
	}
	return appendBoxHeader(dst, boxHeaderSize+pad+dataSize, "mdat")
}

// appendPayloads appends the mdat payload of the samples still held in
// memory, track after track.
func appendPayloads(dst []byte, tracks []*fragTrack) []byte {
	for _, t := range tracks {
		for i := range t.samples {
			dst = t.appendPayload(dst, t.samples[i].payload)
		}
	}
	return dst
}

// appendBoxHeader appends a 32-bit box header.
func appendBoxHeader(dst []byte, size int, typ string) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(size))
	return append(dst, typ...)
}

// fragmentBuffers recycles the buffers fragments are assembled in, so that
// memory grows with the number of cameras writing a fragment at the same
// instant rather than with the number of cameras. A bounded free list is
// used rather than a sync.Pool, which every garbage collection empties.
type fragmentBuffers struct{ free chan *[]byte }

// Bounds of the free list.
const (
	freeFragmentBuffers = 4
	maxPooledBuffer     = 4 << 20 // larger buffers (a huge fragment) are not kept
)

func newFragmentBuffers() *fragmentBuffers {
	return &fragmentBuffers{free: make(chan *[]byte, freeFragmentBuffers)}
}

func (p *fragmentBuffers) get() *[]byte {
	select {
	case b := <-p.free:
		return b
	default:
		b := []byte(nil)
		return &b
	}
}

func (p *fragmentBuffers) put(b *[]byte) {
	if cap(*b) > maxPooledBuffer {
		return
	}
	*b = (*b)[:0]
	select {
	case p.free <- b:
	default:
	}
}
