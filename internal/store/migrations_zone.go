package store

// zoneMigrations is a zone database's schema history.
var zoneMigrations = []migration{
	{version: 1, name: "initial zone schema", tables: []table{
		{
			// One row per stored segment object, clustered on (camera, start)
			// so that range reads and retention deletes are index range scans.
			name: "segments",
			cols: []column{
				{name: "camera_id", typ: tID},
				{name: "start_us", typ: tBigInt},
				{name: "end_us", typ: tBigInt},
				{name: "size", typ: tBigInt},
				{name: "obj_key", typ: tText},
				{name: "init_key", typ: tText},
				{name: "codec", typ: tKey},
				{name: "fragments", typ: tBlob, null: true}, // see fragcodec.go
			},
			pk:        []string{"camera_id", "start_us"},
			indexes:   []index{{name: "segments_end", cols: []string{"end_us"}}},
			clustered: true,
		},
		{
			name: "camera_status",
			cols: []column{
				{name: "camera_id", typ: tID},
				{name: "online", typ: tBool},
				{name: "codec", typ: tKey},
				{name: "bitrate_kbps", typ: tInt},
				{name: "last_seen_us", typ: tBigInt},
				{name: "server_id", typ: tID},
			},
			pk:      []string{"camera_id"},
			indexes: []index{{name: "camera_status_server", cols: []string{"server_id"}}},
		},
		{
			name: "servers",
			cols: []column{
				{name: "id", typ: tID},
				{name: "addr", typ: tKey},
				{name: "capacity", typ: tInt},
				{name: "seen_us", typ: tBigInt},
				{name: "draining", typ: tBool},
			},
			pk: []string{"id"},
		},
		{
			name: "leases",
			cols: []column{
				{name: "camera_id", typ: tID},
				{name: "server_id", typ: tID},
				{name: "expires_us", typ: tBigInt},
			},
			pk:      []string{"camera_id"},
			indexes: []index{{name: "leases_server", cols: []string{"server_id"}}},
		},
	}},
	// Media correctness: a connected camera says whether it is being
	// recorded, and if not why (camera_status.recording and its reason),
	// and which of its tracks are not recorded.
	{version: 2, name: "camera status: recording state and reason, unrecorded tracks", sql: map[string][]string{
		"sqlite": {
			"ALTER TABLE camera_status ADD COLUMN recording TEXT NOT NULL DEFAULT ''",
			"ALTER TABLE camera_status ADD COLUMN recording_reason TEXT NOT NULL DEFAULT ''",
			"ALTER TABLE camera_status ADD COLUMN unrecorded_tracks TEXT NOT NULL DEFAULT ''",
		},
		"mysql": {
			"ALTER TABLE camera_status ADD COLUMN IF NOT EXISTS recording VARCHAR(64) NOT NULL DEFAULT ''",
			"ALTER TABLE camera_status ADD COLUMN IF NOT EXISTS recording_reason VARCHAR(320) NOT NULL DEFAULT ''",
			"ALTER TABLE camera_status ADD COLUMN IF NOT EXISTS unrecorded_tracks VARCHAR(320) NOT NULL DEFAULT ''",
		},
	}},
	// Events: what happened to a camera (online, offline, recording gaps,
	// storage pressure, motion, custom events of integrations), with a
	// zone-wide sequence number that readers tail (events.seq), the
	// counter that hands it out in commit order (event_seq), and the
	// announced presence of each camera (camera_presence), which makes
	// online and offline events happen once per change across the zone's
	// camera servers.
	{version: 3, name: "events, their sequence and camera presence", tables: []table{
		{
			// Clustered on (camera, start) so that a camera's timeline and
			// retention deletes are range scans.
			name: "events",
			cols: []column{
				{name: "camera_id", typ: tID},
				{name: "start_us", typ: tBigInt},
				{name: "id", typ: tID},
				{name: "org_id", typ: tID},
				{name: "type", typ: tKey},
				{name: "end_us", typ: tBigInt},
				{name: "ongoing", typ: tBool},
				{name: "detail", typ: tText},
				{name: "source", typ: tKey},
				{name: "seq", typ: tBigInt},
			},
			pk: []string{"camera_id", "start_us", "id"},
			indexes: []index{
				{name: "events_org", cols: []string{"org_id", "start_us"}},
				{name: "events_seq", cols: []string{"seq"}, unique: true},
				{name: "events_id", cols: []string{"id"}, unique: true},
				{name: "events_ongoing", cols: []string{"ongoing", "camera_id"}},
			},
			clustered: true,
		},
		{
			name: "event_seq",
			cols: []column{
				{name: "name", typ: tID},
				{name: "n", typ: tBigInt},
			},
			pk: []string{"name"},
		},
		{
			name: "camera_presence",
			cols: []column{
				{name: "camera_id", typ: tID},
				{name: "state", typ: tID},
				{name: "server_id", typ: tID},
				{name: "since_us", typ: tBigInt},
			},
			pk: []string{"camera_id"},
		},
	}, sql: map[string][]string{
		"sqlite": {"INSERT OR IGNORE INTO event_seq (name, n) VALUES ('events', 0)"},
		"mysql":  {"INSERT IGNORE INTO event_seq (name, n) VALUES ('events', 0)"},
	}},
	zoneMigrationBookmarks,
	zoneMigrationSegmentUsage,
	zoneMigrationUsage,
	zoneMigrationBackfill,
	zoneMigrationOffline,
	zoneMigrationStoredBytes,
	zoneMigrationIndexedAt,
}
