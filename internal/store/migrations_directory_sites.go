package store

// dirMigrationSites is the directory migration of sites and edge agents
// (issue 18): an organisation's sites, each with the hash of its one-time
// enrolment token, the hash of the credential its agent enrolled with, and
// the status the agent last reported; and the site a camera belongs to
// (cameras.site_id, "" for none). It is appended to directoryMigrations as
// one entry, so that a merge with another branch's migration only has to
// renumber it.
var dirMigrationSites = migration{version: 13, name: "sites: enrolment, agent credential, reported status; cameras.site_id",
	tables: []table{
		{
			name: "sites",
			cols: []column{
				{name: "id", typ: tID},
				{name: "org_id", typ: tID},
				{name: "name", typ: tKey},
				// enrol_hash is the SHA-256 of the pending enrolment token
				// ("" once used or when none is pending), valid until
				// enrol_until_us; cred_hash the SHA-256 of the agent's
				// credential ("" before enrolment and after revocation).
				{name: "enrol_hash", typ: tKey},
				{name: "enrol_until_us", typ: tBigInt},
				{name: "cred_hash", typ: tKey},
				{name: "revoked_us", typ: tBigInt},
				{name: "enrolled_us", typ: tBigInt},
				{name: "created_by", typ: tID},
				{name: "created_us", typ: tBigInt},
				// What the agent's last heartbeat said.
				{name: "last_seen_us", typ: tBigInt},
				{name: "agent_version", typ: tID},
				{name: "buffer_used_bytes", typ: tBigInt},
				{name: "buffer_max_bytes", typ: tBigInt},
				{name: "backlog_ms", typ: tBigInt},
				{name: "backlog_bytes", typ: tBigInt},
				{name: "upload_bps", typ: tBigInt},
			},
			pk: []string{"id"},
			indexes: []index{
				{name: "sites_org", cols: []string{"org_id"}},
				{name: "sites_enrol", cols: []string{"enrol_hash"}},
				{name: "sites_cred", cols: []string{"cred_hash"}},
			},
			fks: []foreignKey{{cols: []string{"org_id"}, ref: "orgs(id)", cascade: true}},
		},
	},
	sql: map[string][]string{
		"sqlite": {"ALTER TABLE cameras ADD COLUMN site_id TEXT NOT NULL DEFAULT ''"},
		"mysql":  {"ALTER TABLE cameras ADD COLUMN IF NOT EXISTS site_id VARCHAR(64) NOT NULL DEFAULT ''"},
	},
}
