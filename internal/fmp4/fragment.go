package fmp4

import (
	"encoding/binary"
)

// This file writes one fMP4 fragment (moof + mdat) by hand. It lays the
// boxes out exactly as mediacommon's fmp4.Part.Marshal does (a test checks
// the bytes are identical), without its reflection-driven box library and
// without copying each sample's payload into an intermediate buffer: the
// samples keep referencing their payloads (the recorder's are hub units,
// immutable and shared) until the fragment is written into one buffer.
// Recording costs a few allocations per fragment instead of about fifty
// per frame.

// Box layout constants (ISO/IEC 14496-12).
const (
	mfhdSize      = BoxHeaderSize + 4 + 4     // full box header, sequence_number
	tfhdSize      = BoxHeaderSize + 4 + 4     // full box header, track_ID
	tfdtSize      = BoxHeaderSize + 4 + 8     // full box header, version 1 base time
	trunFixedSize = BoxHeaderSize + 4 + 4 + 4 // full box header, sample_count, data_offset

	tfhdDefaultBaseIsMoof = 0x020000

	trunDataOffsetPresent       = 0x001
	trunFirstSampleFlagsPresent = 0x004
	trunDurationPresent         = 0x100
	trunSizePresent             = 0x200
	trunFlagsPresent            = 0x400
	trunCTOPresent              = 0x800

	sampleIsNonSync = 1 << 16
)

// Sample is one buffered fMP4 sample: its timing, and its payload,
// referenced rather than copied; nil when the payload is written apart
// from the fragment (the recorder writes its lead track's ahead, see
// AppendFragmentHead).
type Sample struct {
	Duration uint32
	CTO      int32 // PTS - DTS
	NonSync  bool
	Size     uint32   // bytes in mdat
	Payload  [][]byte // NAL units (video) or frame(s) (audio)
}

// Track is one track's part of a fragment.
type Track struct {
	ID       int
	BaseTime uint64 // tfdt, in the track's time scale
	// LengthPrefixed writes every element of a sample's payload with a
	// 4-byte big-endian length in front (AVCC video); otherwise the
	// elements are concatenated (audio).
	LengthPrefixed bool
	Samples        []Sample
}

// Add appends a sample referencing payload. It reports the sample's size in
// mdat.
func (t *Track) Add(dur uint32, cto int32, nonSync bool, payload [][]byte) int {
	size := 0
	for _, b := range payload {
		size += len(b)
	}
	if t.LengthPrefixed {
		size += 4 * len(payload)
	}
	t.Samples = append(t.Samples, Sample{Duration: dur, CTO: cto, NonSync: nonSync, Size: uint32(size), Payload: payload})
	return size
}

// AppendPayload appends a sample's payload as it goes in mdat.
func (t *Track) AppendPayload(dst []byte, payload [][]byte) []byte {
	for _, b := range payload {
		if t.LengthPrefixed {
			dst = binary.BigEndian.AppendUint32(dst, uint32(len(b)))
		}
		dst = append(dst, b...)
	}
	return dst
}

// Reset empties the track, dropping its references to payloads.
func (t *Track) Reset() {
	clear(t.Samples)
	t.Samples = t.Samples[:0]
}

// trunLayout returns the trun flags and the size of one trun entry.
func (t *Track) trunLayout() (flags uint32, entry int) {
	flags = trunDataOffsetPresent | trunDurationPresent | trunSizePresent
	for i := range t.Samples {
		if t.Samples[i].NonSync {
			flags |= trunFlagsPresent
		}
		if t.Samples[i].CTO != 0 {
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

// FragmentSize returns the sizes of the moof box and of the mdat payload of
// a fragment of tracks (tracks without samples are left out).
func FragmentSize(tracks []*Track) (moof, data int) {
	moof = BoxHeaderSize + mfhdSize
	for _, t := range tracks {
		if len(t.Samples) == 0 {
			continue
		}
		_, entry := t.trunLayout()
		moof += BoxHeaderSize + tfhdSize + tfdtSize + trunFixedSize + entry*len(t.Samples)
		for i := range t.Samples {
			data += int(t.Samples[i].Size)
		}
	}
	return moof, data
}

// AppendFragment appends the moof and mdat boxes of one fragment with
// sequence number seq to dst. Tracks without samples are left out. The mdat
// payload must stay under 4 GiB (fragments are bounded far below).
func AppendFragment(dst []byte, seq uint32, tracks []*Track) []byte {
	moofSize, dataSize := FragmentSize(tracks)
	total := moofSize + BoxHeaderSize + dataSize
	if cap(dst)-len(dst) < total {
		grown := make([]byte, len(dst), len(dst)+total+total/4) // room for a slightly larger next one
		copy(grown, dst)
		dst = grown
	}
	dst = AppendFragmentHead(dst, seq, tracks, 0)
	return AppendPayloads(dst, tracks)
}

// AppendFragmentHead appends the moof box and the mdat header of a fragment
// whose payload starts pad bytes into the mdat: the samples of the tracks
// in order, each track's contiguous. The pad bytes are not referenced by any
// sample (players follow the trun data offsets); they let the header be
// written into room reserved before the payload, which the recorder writes
// to disk as it arrives.
func AppendFragmentHead(dst []byte, seq uint32, tracks []*Track, pad int) []byte {
	moofSize, dataSize := FragmentSize(tracks)
	be := binary.BigEndian
	dst = appendBoxHeader(dst, moofSize, "moof")
	dst = appendBoxHeader(dst, mfhdSize, "mfhd")
	dst = be.AppendUint32(dst, 0) // version 0, flags 0
	dst = be.AppendUint32(dst, seq)
	dataOffset := moofSize + BoxHeaderSize + pad // from the moof start to the first sample
	for _, t := range tracks {
		if len(t.Samples) == 0 {
			continue
		}
		flags, entry := t.trunLayout()
		trunSize := trunFixedSize + entry*len(t.Samples)
		dst = appendBoxHeader(dst, BoxHeaderSize+tfhdSize+tfdtSize+trunSize, "traf")
		dst = appendBoxHeader(dst, tfhdSize, "tfhd")
		dst = be.AppendUint32(dst, tfhdDefaultBaseIsMoof) // version 0
		dst = be.AppendUint32(dst, uint32(t.ID))
		dst = appendBoxHeader(dst, tfdtSize, "tfdt")
		dst = be.AppendUint32(dst, 1<<24) // version 1, flags 0
		dst = be.AppendUint64(dst, t.BaseTime)
		dst = appendBoxHeader(dst, trunSize, "trun")
		dst = be.AppendUint32(dst, 1<<24|flags) // version 1: signed composition offsets
		dst = be.AppendUint32(dst, uint32(len(t.Samples)))
		dst = be.AppendUint32(dst, uint32(dataOffset))
		for i := range t.Samples {
			s := &t.Samples[i]
			dst = be.AppendUint32(dst, s.Duration)
			dst = be.AppendUint32(dst, s.Size)
			if flags&trunFlagsPresent != 0 {
				var f uint32
				if s.NonSync {
					f = sampleIsNonSync
				}
				dst = be.AppendUint32(dst, f)
			}
			if flags&trunCTOPresent != 0 {
				dst = be.AppendUint32(dst, uint32(s.CTO))
			}
			dataOffset += int(s.Size)
		}
	}
	return appendBoxHeader(dst, BoxHeaderSize+pad+dataSize, "mdat")
}

// AppendPayloads appends the mdat payload of the samples still held in
// memory, track after track.
func AppendPayloads(dst []byte, tracks []*Track) []byte {
	for _, t := range tracks {
		for i := range t.Samples {
			dst = t.AppendPayload(dst, t.Samples[i].Payload)
		}
	}
	return dst
}

// appendBoxHeader appends a 32-bit box header.
func appendBoxHeader(dst []byte, size int, typ string) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(size))
	return append(dst, typ...)
}
