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
}
