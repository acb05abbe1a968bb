package store

// zoneMigrationBookmarks is the zone migration of bookmarks (issue 16):
// named, timed notes on a camera's timeline, clustered on (camera,
// start) like events, so that a camera's range is one range scan. It is
// appended to zoneMigrations as one entry.
var zoneMigrationBookmarks = migration{version: 4, name: "bookmarks on cameras' timelines",
	tables: []table{
		{
			name: "bookmarks",
			cols: []column{
				{name: "camera_id", typ: tID},
				{name: "start_us", typ: tBigInt},
				{name: "id", typ: tID},
				{name: "org_id", typ: tID},
				{name: "end_us", typ: tBigInt}, // 0: a moment, not a range
				{name: "name", typ: tKey},
				{name: "note", typ: tText},
				{name: "created_by", typ: tID},
				{name: "created_email", typ: tKey},
				{name: "created_us", typ: tBigInt},
			},
			pk:        []string{"camera_id", "start_us", "id"},
			indexes:   []index{{name: "bookmarks_id", cols: []string{"id"}, unique: true}},
			clustered: true,
		},
	},
}
