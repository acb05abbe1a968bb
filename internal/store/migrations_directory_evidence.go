package store

// dirMigrationEvidence is the directory migration of evidence exports
// (issue 16): the deployment's signing key (one row; its private half
// sealed) and the export jobs, with the lease of the api node that runs
// each. It is appended to directoryMigrations as one entry.
var dirMigrationEvidence = migration{version: 9, name: "evidence exports: signing key, export jobs with leases",
	tables: []table{
		{
			// The Ed25519 key evidence packages are signed with: public
			// half in the clear (base64), private half sealed
			// (auth.SecretBox, context "evidence-key:ID").
			name: "evidence_keys",
			cols: []column{
				{name: "id", typ: tID},
				{name: "public_key", typ: tKey},
				{name: "private_key", typ: tText},
				{name: "created_us", typ: tBigInt},
			},
			pk: []string{"id"},
		},
		{
			// One row per export job; state queued, running, ready or
			// failed; the lease says which api node runs it.
			name: "exports",
			cols: []column{
				{name: "id", typ: tID},
				{name: "org_id", typ: tID},
				{name: "camera_id", typ: tID},
				{name: "zone", typ: tID},
				{name: "from_us", typ: tBigInt},
				{name: "to_us", typ: tBigInt},
				{name: "evidence", typ: tBool},
				{name: "watermark", typ: tBool},
				{name: "state", typ: tID},
				{name: "progress", typ: tInt}, // per mille
				{name: "error", typ: tText},
				{name: "audit_seq", typ: tBigInt},
				{name: "object_key", typ: tKey},
				{name: "size", typ: tBigInt},
				{name: "sha256", typ: tID},
				{name: "lease_owner", typ: tID},
				{name: "lease_until_us", typ: tBigInt},
				{name: "attempts", typ: tInt},
				{name: "created_by", typ: tID},
				{name: "created_email", typ: tKey},
				{name: "created_us", typ: tBigInt},
				{name: "updated_us", typ: tBigInt},
				{name: "expires_us", typ: tBigInt},
			},
			pk: []string{"id"},
			indexes: []index{
				{name: "exports_org_state", cols: []string{"org_id", "state"}},
				{name: "exports_state", cols: []string{"state", "created_us"}},
				{name: "exports_camera", cols: []string{"camera_id", "created_us"}},
			},
			fks: []foreignKey{{cols: []string{"org_id"}, ref: "orgs(id)", cascade: true}},
		},
	},
}
