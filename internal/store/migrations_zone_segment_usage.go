package store

// zoneMigrationSegmentUsage is the zone migration of retention by size (issue
// 16): segment_usage keeps, per camera, the bytes and number of its
// indexed segments, changed in the same transaction as every insert and
// delete of a segment row, so that an organisation's use is a sum over
// its cameras' rows and never a scan of the index. The migration fills it
// once from the index (one pass over the segments, at upgrade). It is
// appended to zoneMigrations as one entry.
var zoneMigrationSegmentUsage = migration{version: 5, name: "storage use per camera, kept with the segment index",
	tables: []table{{
		name: "segment_usage",
		cols: []column{
			{name: "camera_id", typ: tID},
			{name: "bytes", typ: tBigInt},
			{name: "segments", typ: tBigInt},
		},
		pk: []string{"camera_id"},
	}},
	sql: map[string][]string{
		"sqlite": {"INSERT OR IGNORE INTO segment_usage (camera_id, bytes, segments) SELECT camera_id, SUM(size), COUNT(*) FROM segments GROUP BY camera_id"},
		"mysql":  {"INSERT IGNORE INTO segment_usage (camera_id, bytes, segments) SELECT camera_id, SUM(size), COUNT(*) FROM segments GROUP BY camera_id"},
	},
}
