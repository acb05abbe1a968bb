package store

// dirMigrationHolds is the directory migration of legal holds and
// retention by size (issue 16): holds on a camera's recorded range, an
// organisation's storage quota, and the storage each organisation uses in
// each zone as that zone's retention sweeper last counted it (how the
// sweepers of several zones enforce one quota together). It is appended
// to directoryMigrations as one entry, so that a merge with another
// branch's migration only has to renumber it.
var dirMigrationHolds = migration{version: 10, name: "legal holds, organisation storage quota, storage use per organisation and zone",
	tables: []table{
		{
			// A hold keeps its camera's recordings overlapping [from, to)
			// past retention and size pressure until it is deleted
			// (released). The foreign key without cascade backs up
			// DeleteCamera's refusal: a held camera cannot go.
			name: "holds",
			cols: []column{
				{name: "id", typ: tID},
				{name: "org_id", typ: tID},
				{name: "camera_id", typ: tID},
				{name: "from_us", typ: tBigInt},
				{name: "to_us", typ: tBigInt},
				{name: "reason", typ: tText},
				{name: "created_by", typ: tID},
				{name: "created_by_email", typ: tKey},
				{name: "created_us", typ: tBigInt},
			},
			pk:      []string{"id"},
			indexes: []index{{name: "holds_camera", cols: []string{"camera_id", "from_us"}}},
			fks:     []foreignKey{{cols: []string{"camera_id"}, ref: "cameras(id)"}},
		},
		{
			// What an organisation's recordings take in one zone, written
			// by that zone's sweeper on every pass; oldest_us is the end
			// of its oldest recording that a quota may delete (unheld), 0
			// when none.
			name: "org_storage",
			cols: []column{
				{name: "org_id", typ: tID},
				{name: "zone", typ: tID},
				{name: "used_bytes", typ: tBigInt},
				{name: "segments", typ: tBigInt},
				{name: "oldest_us", typ: tBigInt},
				{name: "updated_us", typ: tBigInt},
			},
			pk:  []string{"org_id", "zone"},
			fks: []foreignKey{{cols: []string{"org_id"}, ref: "orgs(id)", cascade: true}},
		},
	},
	sql: map[string][]string{
		"sqlite": {"ALTER TABLE orgs ADD COLUMN storage_quota_bytes INTEGER NOT NULL DEFAULT 0"},
		"mysql":  {"ALTER TABLE orgs ADD COLUMN IF NOT EXISTS storage_quota_bytes BIGINT NOT NULL DEFAULT 0"},
	},
}
