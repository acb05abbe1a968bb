package store

// dirMigrationWebhooks is the directory migration of webhooks (issue 15):
// an organisation's webhooks, one delivery cursor per webhook and zone
// (the zone's event log is the outbox; the cursor is how far the webhook
// has got, with the lease of the api node that delivers it), and the
// bounded log of delivery attempts. It is appended to directoryMigrations
// as one entry, so that a merge with another branch's migration only has
// to renumber it.
var dirMigrationWebhooks = migration{version: 7, name: "webhooks: endpoints, delivery cursors per zone with leases, delivery log",
	tables: []table{
		{
			name: "webhooks",
			cols: []column{
				{name: "id", typ: tID},
				{name: "org_id", typ: tID},
				{name: "url", typ: tText},
				{name: "description", typ: tKey},
				// secret is sealed (auth.SecretBox, context "webhook:ID");
				// prev_secret is the one it replaced, still signed with until
				// prev_until_us, so that receivers can roll over.
				{name: "secret", typ: tText},
				{name: "prev_secret", typ: tText},
				{name: "prev_until_us", typ: tBigInt},
				{name: "types", typ: tText},   // comma-separated; empty: every type
				{name: "cameras", typ: tText}, // comma-separated ids; empty: every camera
				{name: "enabled", typ: tBool},
				{name: "disabled_reason", typ: tText},
				{name: "disabled_us", typ: tBigInt},
				{name: "created_by", typ: tID},
				{name: "created_us", typ: tBigInt},
				{name: "updated_us", typ: tBigInt},
			},
			pk:      []string{"id"},
			indexes: []index{{name: "webhooks_org", cols: []string{"org_id"}}},
			fks:     []foreignKey{{cols: []string{"org_id"}, ref: "orgs(id)", cascade: true}},
		},
		{
			// How far a webhook has got in a zone's event log: every event
			// up to seq is delivered (or did not match). The lease says
			// which api node delivers it now.
			name: "webhook_cursors",
			cols: []column{
				{name: "webhook_id", typ: tID},
				{name: "zone", typ: tID},
				{name: "seq", typ: tBigInt},
				{name: "lease_owner", typ: tID},
				{name: "lease_until_us", typ: tBigInt},
				{name: "attempts", typ: tInt},
				{name: "next_attempt_us", typ: tBigInt},
				{name: "failing_since_us", typ: tBigInt},
			},
			pk:  []string{"webhook_id", "zone"},
			fks: []foreignKey{{cols: []string{"webhook_id"}, ref: "webhooks(id)", cascade: true}},
		},
		{
			// One row per delivery attempt, newest kept (TrimWebhookDeliveries).
			name: "webhook_deliveries",
			cols: []column{
				{name: "webhook_id", typ: tID},
				{name: "at_us", typ: tBigInt},
				{name: "id", typ: tID},
				{name: "event_id", typ: tID},
				{name: "event_type", typ: tID},
				{name: "zone", typ: tID},
				{name: "seq", typ: tBigInt},
				{name: "attempt", typ: tInt},
				{name: "status", typ: tInt},
				{name: "duration_us", typ: tBigInt},
				{name: "lag_us", typ: tBigInt},
				{name: "error", typ: tText},
				{name: "node", typ: tID},
			},
			pk:        []string{"webhook_id", "at_us", "id"},
			clustered: true,
			fks:       []foreignKey{{cols: []string{"webhook_id"}, ref: "webhooks(id)", cascade: true}},
		},
	},
}
