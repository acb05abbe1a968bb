package store

// zoneMigrationStoredBytes makes segment_usage the one record of what each
// camera stores (issue 17, review of issues 16 and 17): it gets the
// camera's organisation, which usage metering needs to give every camera
// its stored bytes on every day, filled from usage_storage. usage_storage
// (zone migration 6, a second running total of the same bytes kept from
// the meters' deltas) is retired: this version neither reads nor writes
// it. It stays in the schema for nodes of the version before during a
// rolling upgrade (their flushes would fail and, at their stop, lose what
// they counted if it were gone); a later migration drops it. It is
// appended to zoneMigrations as one entry, so that a merge with another
// branch's migration only has to renumber it.
var zoneMigrationStoredBytes = migration{version: 10, name: "stored bytes per camera: one table, segment_usage, with the organisation", sql: map[string][]string{
	"sqlite": {
		"ALTER TABLE segment_usage ADD COLUMN org_id TEXT NOT NULL DEFAULT ''",
		segmentUsageOrgs,
	},
	"mysql": {
		"ALTER TABLE segment_usage ADD COLUMN IF NOT EXISTS org_id VARCHAR(64) NOT NULL DEFAULT ''",
		segmentUsageOrgs,
	},
}}

// segmentUsageOrgs copies each camera's organisation from usage_storage.
const segmentUsageOrgs = `UPDATE segment_usage SET org_id = COALESCE((SELECT u.org_id FROM usage_storage u WHERE u.camera_id = segment_usage.camera_id), '')`
