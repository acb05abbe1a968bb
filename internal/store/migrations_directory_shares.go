package store

// dirMigrationShares is the directory migration of share links (issue
// 16): a link to one camera's recorded range or live view, held by
// whoever has its token (stored hashed), with an expiry, an optional
// password (hashed like user passwords), a view limit and its
// revocation. It dies with its camera and its organisation (cascade). It
// is appended to directoryMigrations as one entry, so that a merge with
// another branch's migration only has to renumber it.
var dirMigrationShares = migration{version: 8, name: "share links: a camera's range or live view for holders of a token",
	tables: []table{
		{
			name: "shares",
			cols: []column{
				{name: "id", typ: tID},
				{name: "org_id", typ: tID},
				{name: "camera_id", typ: tID},
				{name: "live", typ: tBool},
				{name: "from_us", typ: tBigInt},
				{name: "to_us", typ: tBigInt},
				{name: "token_hash", typ: tKey},
				{name: "password_hash", typ: tText},
				{name: "allow_download", typ: tBool},
				{name: "max_views", typ: tInt},
				{name: "views", typ: tInt},
				{name: "note", typ: tText},
				{name: "created_by", typ: tID},
				{name: "created_by_email", typ: tKey},
				{name: "created_us", typ: tBigInt},
				{name: "expires_us", typ: tBigInt},
				{name: "revoked_us", typ: tBigInt},
				{name: "revoked_by", typ: tKey},
			},
			pk: []string{"id"},
			indexes: []index{
				{name: "shares_token", cols: []string{"token_hash"}, unique: true},
				{name: "shares_org", cols: []string{"org_id", "created_us"}},
				{name: "shares_camera", cols: []string{"camera_id"}},
			},
			fks: []foreignKey{
				{cols: []string{"org_id"}, ref: "orgs(id)", cascade: true},
				{cols: []string{"camera_id"}, ref: "cameras(id)", cascade: true},
			},
		},
	},
}
