package config

import (
	"flag"
	"fmt"
)

// Backfill configures the cloud side of edge-agent backfill (api nodes).
// Its fields are top-level keys of the YAML file.
type Backfill struct {
	// BackfillChunkSize is the most bytes one upload chunk (PATCH) may
	// carry; agents are told it when an upload starts.
	BackfillChunkSize int64 `yaml:"backfill_chunk_size"`
	// BackfillMaxSegmentBytes bounds one uploaded segment.
	BackfillMaxSegmentBytes int64 `yaml:"backfill_max_segment_bytes"`
}

// Bounds of the backfill settings (as internal/backfill checks them).
const (
	minBackfillChunk = 16 << 10
	maxBackfillChunk = 64 << 20
	maxBackfillBytes = 4 << 30
)

// defaultBackfill is 8 MiB chunks and segments of at most 256 MiB.
func defaultBackfill() Backfill {
	return Backfill{BackfillChunkSize: 8 << 20, BackfillMaxSegmentBytes: 256 << 20}
}

// bindBackfill adds the backfill flags.
func bindBackfill(fs *flag.FlagSet, b *Backfill) {
	fs.Int64Var(&b.BackfillChunkSize, "backfill-chunk-size", b.BackfillChunkSize, "most bytes of one backfill upload chunk, 16 KiB..64 MiB")
	fs.Int64Var(&b.BackfillMaxSegmentBytes, "backfill-max-segment-bytes", b.BackfillMaxSegmentBytes, "largest segment an edge agent may upload, at least the chunk size, at most 4 GiB")
}

// check validates the backfill settings.
func (b Backfill) check() error {
	if b.BackfillChunkSize < minBackfillChunk || b.BackfillChunkSize > maxBackfillChunk {
		return fmt.Errorf("backfill_chunk_size %d must be in [%d, %d]", b.BackfillChunkSize, minBackfillChunk, maxBackfillChunk)
	}
	if b.BackfillMaxSegmentBytes < b.BackfillChunkSize || b.BackfillMaxSegmentBytes > maxBackfillBytes {
		return fmt.Errorf("backfill_max_segment_bytes %d must be in [backfill_chunk_size, %d]", b.BackfillMaxSegmentBytes, int64(maxBackfillBytes))
	}
	return nil
}
