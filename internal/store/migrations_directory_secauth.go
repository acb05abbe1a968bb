package store

// dirMigrationSecAuth is the directory migration of the authentication
// hardening (security review, issue 14): API key scopes and expiry, TOTP
// recovery codes and invitations to organisations. It is appended to
// directoryMigrations as one entry, so that a merge with another branch's
// migration only has to renumber it.
var dirMigrationSecAuth = migration{version: 5, name: "auth hardening: API key scope and expiry, TOTP recovery codes, invitations",
	tables: []table{
		{
			// One row per unused recovery code; using a code deletes its row.
			name: "recovery_codes",
			cols: []column{{name: "user_id", typ: tID}, {name: "hash", typ: tKey}},
			pk:   []string{"user_id", "hash"},
			fks:  []foreignKey{{cols: []string{"user_id"}, ref: "users(id)", cascade: true}},
		},
		{
			// A pending invitation of an email to an organisation; accepting
			// it makes the membership and deletes the row.
			name: "invitations",
			cols: []column{
				{name: "id", typ: tID},
				{name: "org_id", typ: tID},
				{name: "email", typ: tKey}, // lower-cased
				{name: "role", typ: tID},
				{name: "invited_by", typ: tID},
				{name: "created_us", typ: tBigInt},
				{name: "expires_us", typ: tBigInt},
			},
			pk: []string{"id"},
			indexes: []index{
				{name: "invitations_org_email", cols: []string{"org_id", "email"}, unique: true},
				{name: "invitations_email", cols: []string{"email"}},
			},
			fks: []foreignKey{{cols: []string{"org_id"}, ref: "orgs(id)", cascade: true}},
		},
	},
	sql: map[string][]string{
		"sqlite": {
			"ALTER TABLE api_keys ADD COLUMN scope TEXT NOT NULL DEFAULT 'full'",
			"ALTER TABLE api_keys ADD COLUMN expires_us INTEGER NOT NULL DEFAULT 0",
		},
		"mysql": {
			"ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS scope VARCHAR(64) NOT NULL DEFAULT 'full'",
			"ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS expires_us BIGINT NOT NULL DEFAULT 0",
		},
	},
}
