package store

// dirMigrationWebhookFeed indexes webhooks by updated_us: every api node
// reads the webhooks changed since its last look (ListWebhooksChangedSince: WHERE
// updated_us >= ? ORDER BY updated_us, id) every few seconds, which
// without it scans the table.
var dirMigrationWebhookFeed = migration{version: 14, name: "webhooks: index for the change feed",
	sql: map[string][]string{
		"sqlite": {"CREATE INDEX IF NOT EXISTS webhooks_updated ON webhooks (updated_us, id)"},
		"mysql":  {"CREATE INDEX IF NOT EXISTS webhooks_updated ON webhooks (updated_us, id)"},
	},
}
