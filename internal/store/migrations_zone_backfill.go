package store

// zoneMigrationBackfill is the zone migration of edge-agent backfill
// (issue 18): agent_uploads, the resumable uploads of segments that an
// agent recorded while its uplink was down (one row per pending upload:
// its camera, range, size, SHA-256 and the offset acknowledged so far;
// the bytes are staged in the zone's object store), and two columns of
// segments: backfilled (the segment came from an agent's backfill, not
// from the camera server's recorder) and sha256 (the SHA-256 of the
// uploaded object, which makes a repeated upload a no-op). It is appended
// to zoneMigrations as one entry, so that a merge with another branch's
// migration only has to renumber it.
var zoneMigrationBackfill = migration{version: 8, name: "edge-agent backfill: pending uploads, backfilled segments",
	tables: []table{{
		name: "agent_uploads",
		cols: []column{
			{name: "id", typ: tID},
			{name: "camera_id", typ: tID},
			{name: "start_us", typ: tBigInt},
			{name: "end_us", typ: tBigInt},
			{name: "size", typ: tBigInt},
			{name: "sha256", typ: tID},
			{name: "init_hash", typ: tID}, // "" when the body carries its init segment
			{name: "offset_bytes", typ: tBigInt},
			{name: "created_us", typ: tBigInt},
			{name: "expires_us", typ: tBigInt},
		},
		pk: []string{"id"},
		indexes: []index{
			{name: "agent_uploads_key", cols: []string{"camera_id", "start_us", "sha256"}, unique: true},
			{name: "agent_uploads_expires", cols: []string{"expires_us"}},
		},
	}},
	sql: map[string][]string{
		"sqlite": {
			"ALTER TABLE segments ADD COLUMN backfilled INTEGER NOT NULL DEFAULT 0",
			"ALTER TABLE segments ADD COLUMN sha256 TEXT NOT NULL DEFAULT ''",
		},
		"mysql": {
			"ALTER TABLE segments ADD COLUMN IF NOT EXISTS backfilled BOOLEAN NOT NULL DEFAULT 0",
			"ALTER TABLE segments ADD COLUMN IF NOT EXISTS sha256 VARCHAR(64) NOT NULL DEFAULT ''",
		},
	},
}
