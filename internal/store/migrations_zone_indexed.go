package store

// zoneMigrationIndexedAt gives each segment row the time it was indexed
// (indexed_us), the column the analytics export's incremental runs
// follow (internal/dataexport): a segment's end time is not when its row
// appears, since an edge agent's backfill (issue 18) and a spool
// recovered late index segments whose end is long past, which an export
// following end_us never picked up once its watermark had passed them.
// Rows that exist take their end as their indexing time; a replaced row
// (a retried upload) keeps its first indexing time, so it is not exported
// twice.
var zoneMigrationIndexedAt = migration{version: 11, name: "segments: the time each row was indexed, for incremental exports",
	sql: map[string][]string{
		"sqlite": {
			"ALTER TABLE segments ADD COLUMN indexed_us INTEGER NOT NULL DEFAULT 0",
			"UPDATE segments SET indexed_us = end_us",
			"CREATE INDEX segments_indexed ON segments (indexed_us)",
		},
		"mysql": {
			"ALTER TABLE segments ADD COLUMN IF NOT EXISTS indexed_us BIGINT NOT NULL DEFAULT 0",
			"UPDATE segments SET indexed_us = end_us",
			"CREATE INDEX IF NOT EXISTS segments_indexed ON segments (indexed_us)",
		},
	}}
