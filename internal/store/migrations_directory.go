package store

// directoryMigrations is the directory database's schema history.
var directoryMigrations = []migration{
	{version: 1, name: "initial directory schema", tables: []table{
		{
			name:    "orgs",
			cols:    []column{{name: "id", typ: tID}, {name: "name", typ: tKey}, {name: "created_us", typ: tBigInt}},
			pk:      []string{"id"},
			indexes: []index{{name: "orgs_name", cols: []string{"name"}, unique: true}},
		},
		{
			name: "users",
			cols: []column{
				{name: "id", typ: tID},
				{name: "email", typ: tKey}, // lower-cased, so unique regardless of case
				{name: "password_hash", typ: tText},
				{name: "totp_secret", typ: tText},
				{name: "totp_enabled", typ: tBool},
				{name: "platform_admin", typ: tBool},
				{name: "created_us", typ: tBigInt},
			},
			pk:      []string{"id"},
			indexes: []index{{name: "users_email", cols: []string{"email"}, unique: true}},
		},
		{
			name:    "memberships",
			cols:    []column{{name: "org_id", typ: tID}, {name: "user_id", typ: tID}, {name: "role", typ: tID}},
			pk:      []string{"org_id", "user_id"},
			indexes: []index{{name: "memberships_user", cols: []string{"user_id"}}},
			fks: []foreignKey{
				{cols: []string{"org_id"}, ref: "orgs(id)", cascade: true},
				{cols: []string{"user_id"}, ref: "users(id)", cascade: true},
			},
		},
		{
			name: "cameras",
			cols: []column{
				{name: "id", typ: tID},
				{name: "org_id", typ: tID},
				{name: "name", typ: tKey},
				{name: "zone", typ: tID},
				{name: "source_type", typ: tID},
				{name: "source_url", typ: tText},
				{name: "retention_days", typ: tInt},
				{name: "recording", typ: tID},
				{name: "ingest_secret_hash", typ: tText},
				{name: "created_us", typ: tBigInt},
			},
			pk: []string{"id"},
			indexes: []index{
				{name: "cameras_org", cols: []string{"org_id"}},
				{name: "cameras_zone", cols: []string{"zone"}},
			},
			fks: []foreignKey{{cols: []string{"org_id"}, ref: "orgs(id)"}},
		},
		{
			name:    "grants",
			cols:    []column{{name: "camera_id", typ: tID}, {name: "user_id", typ: tID}, {name: "permissions", typ: tText}},
			pk:      []string{"camera_id", "user_id"},
			indexes: []index{{name: "grants_user", cols: []string{"user_id"}}},
			fks: []foreignKey{
				{cols: []string{"camera_id"}, ref: "cameras(id)", cascade: true},
				{cols: []string{"user_id"}, ref: "users(id)", cascade: true},
			},
		},
		{
			name: "sessions",
			cols: []column{
				{name: "token_hash", typ: tKey},
				{name: "user_id", typ: tID},
				{name: "created_us", typ: tBigInt},
				{name: "expires_us", typ: tBigInt},
				{name: "acting_org_id", typ: tID},
				{name: "acting_role", typ: tID},
			},
			pk: []string{"token_hash"},
			indexes: []index{
				{name: "sessions_expires", cols: []string{"expires_us"}},
				{name: "sessions_user", cols: []string{"user_id"}},
			},
			fks: []foreignKey{{cols: []string{"user_id"}, ref: "users(id)", cascade: true}},
		},
		{
			name: "api_keys",
			cols: []column{
				{name: "id", typ: tID},
				{name: "user_id", typ: tID},
				{name: "name", typ: tKey},
				{name: "prefix", typ: tKey},
				{name: "hash", typ: tKey},
				{name: "created_us", typ: tBigInt},
				{name: "last_used_us", typ: tBigInt, null: true},
			},
			pk: []string{"id"},
			indexes: []index{
				{name: "api_keys_hash", cols: []string{"hash"}, unique: true},
				{name: "api_keys_user", cols: []string{"user_id"}},
			},
			fks: []foreignKey{{cols: []string{"user_id"}, ref: "users(id)", cascade: true}},
		},
		{
			// No foreign keys: the audit log outlives what it talks about.
			name: "audit_log",
			cols: []column{
				{name: "seq", typ: tBigInt},
				{name: "time_us", typ: tBigInt},
				{name: "actor", typ: tKey},
				{name: "actor_as", typ: tKey},
				{name: "address", typ: tKey},
				{name: "action", typ: tKey},
				{name: "target", typ: tText},
				{name: "org_id", typ: tID},
				{name: "camera_id", typ: tID},
				{name: "detail", typ: tText},
				{name: "prev_hash", typ: tKey},
				{name: "hash", typ: tKey},
			},
			pk: []string{"seq"},
			indexes: []index{
				{name: "audit_time", cols: []string{"time_us"}},
				{name: "audit_actor", cols: []string{"actor", "seq"}},
				{name: "audit_camera", cols: []string{"camera_id", "seq"}},
				{name: "audit_org", cols: []string{"org_id", "seq"}},
			},
		},
	}},
	{version: 2, name: "TOTP replay protection", sql: map[string][]string{
		"sqlite": {"ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0"},
		"mysql":  {"ALTER TABLE users ADD COLUMN IF NOT EXISTS totp_last_step BIGINT NOT NULL DEFAULT 0"},
	}},
	// Camera lifecycle (security review): a removed member's grants used to
	// stay behind and came back when they were re-added; drop them now that
	// removing a membership deletes them (dir_members.go).
	{version: 3, name: "camera lifecycle: drop grants of users no longer members", sql: map[string][]string{
		"sqlite": {dropOrphanGrants},
		"mysql":  {dropOrphanGrants},
	}},
	// Camera lifecycle: a per-zone change token that every camera write
	// replaces in its transaction, which camera servers poll to stop or
	// resume a camera they hold within a second (dir_cameras.go).
	{version: 4, name: "camera lifecycle: per-zone camera change token", tables: []table{
		{
			name: "camera_changes",
			cols: []column{{name: "zone", typ: tID}, {name: "token", typ: tBigInt}},
			pk:   []string{"zone"},
		},
	}},
	dirMigrationSecAuth,
	dirMigrationMotion,
	dirMigrationWebhooks,
	dirMigrationShares,
	dirMigrationEvidence,
	dirMigrationHolds,
	dirMigrationLabels,
	dirMigrationSites,
	dirMigrationWebhookFeed,
}

// dropOrphanGrants deletes the grants whose user is not a member of the
// camera's organisation.
const dropOrphanGrants = `DELETE FROM grants WHERE NOT EXISTS (SELECT 1 FROM cameras c JOIN memberships m ON m.org_id = c.org_id
  WHERE c.id = grants.camera_id AND m.user_id = grants.user_id)`
