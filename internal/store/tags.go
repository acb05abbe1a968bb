package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"

	"github.com/camcloud/camcloud/internal/coltags"
)

// TablePolicy is the tags of one table (carried by all its columns) and of
// each of its columns: what the data export grants audiences by
// (internal/dataexport). A column of the database missing here is never
// exported, and TestEveryColumnTagged fails on it.
type TablePolicy struct {
	// Tags are the table's domain tags; every column carries them too.
	Tags []string
	// Columns maps each column to its own tags.
	Columns map[string][]string
	// Append names an integer column that only grows as rows are
	// appended (a sequence, or a time that is never in the past of rows
	// already there), so that an export may read only the rows above the
	// last run's watermark; empty: the table is exported whole each run.
	Append string
}

// Tags of a column: its table's and its own, sorted, nil when the column
// is not in the policy.
func (p TablePolicy) ColumnTags(col string) []string {
	own, ok := p.Columns[col]
	if !ok {
		return nil
	}
	out := slices.Concat(p.Tags, own)
	slices.Sort(out)
	return slices.Compact(out)
}

// Policy is the tag policy of one schema, by table.
type Policy map[string]TablePolicy

// Version is a digest of the policy (the first 16 hex digits of a SHA-256
// over its canonical JSON), recorded in each export's manifest so that a
// reader knows which classification the files were cut by.
func (p Policy) Version() string {
	b, _ := json.Marshal(p) // maps marshal with sorted keys
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// Short names for the tag policies below.
const (
	secret   = coltags.Secret
	pii      = coltags.PII
	id       = coltags.ID
	content  = coltags.Content
	security = coltags.Security
	ops      = coltags.Ops
	usage    = coltags.Usage
)

// tags is a tag list.
func tags(t ...string) []string { return t }

// DirectoryPolicy is the tag policy of the directory schema. A migration
// that adds a table or column adds its tags here in the same change.
func DirectoryPolicy() Policy { return directoryPolicy }

// ZonePolicy is the tag policy of the zone schema.
func ZonePolicy() Policy { return zonePolicy }

// schemaMigrationsPolicy is the migrations table both schemas have.
var schemaMigrationsPolicy = TablePolicy{Tags: tags(coltags.Platform), Columns: map[string][]string{
	"scope": tags(ops), "version": tags(ops), "name": tags(ops), "applied_us": tags(ops),
}}

var directoryPolicy = Policy{
	"schema_migrations": schemaMigrationsPolicy,
	"orgs": {Tags: tags(coltags.Account), Columns: map[string][]string{
		"id": tags(id), "name": tags(content), "created_us": tags(ops),
		"storage_quota_bytes": tags(usage),
	}},
	"users": {Tags: tags(coltags.Account), Columns: map[string][]string{
		"id":             tags(id),
		"email":          tags(pii),
		"password_hash":  tags(secret),
		"totp_secret":    tags(secret),
		"totp_enabled":   tags(security),
		"totp_last_step": tags(security),
		"platform_admin": tags(security),
		"created_us":     tags(ops),
	}},
	"memberships": {Tags: tags(coltags.Account), Columns: map[string][]string{
		"org_id": tags(id), "user_id": tags(id), "role": tags(security),
	}},
	"invitations": {Tags: tags(coltags.Account), Columns: map[string][]string{
		"id": tags(id), "org_id": tags(id), "email": tags(pii), "role": tags(security),
		"invited_by": tags(id), "created_us": tags(ops), "expires_us": tags(ops),
	}},
	"sessions": {Tags: tags(coltags.Account, security), Columns: map[string][]string{
		"token_hash": tags(secret), "user_id": tags(id), "created_us": tags(ops), "expires_us": tags(ops),
		"acting_org_id": tags(id), "acting_role": tags(security),
	}},
	"api_keys": {Tags: tags(coltags.Account, security), Columns: map[string][]string{
		"id": tags(id), "user_id": tags(id), "name": tags(content),
		// The prefix is the start of the key itself.
		"prefix": tags(secret), "hash": tags(secret),
		"scope": tags(security), "created_us": tags(ops), "last_used_us": tags(ops), "expires_us": tags(ops),
	}},
	"recovery_codes": {Tags: tags(coltags.Account, security), Columns: map[string][]string{
		"user_id": tags(id), "hash": tags(secret),
	}},
	"cameras": {Tags: tags(coltags.Camera), Columns: map[string][]string{
		"id": tags(id), "org_id": tags(id), "name": tags(content), "zone": tags(ops),
		"source_type": tags(ops),
		// A pulled camera's URL carries its user name and password.
		"source_url":         tags(secret),
		"retention_days":     tags(usage),
		"recording":          tags(ops),
		"ingest_secret_hash": tags(secret),
		"created_us":         tags(ops),
		"motion_off":         tags(ops),
		"motion_sensitivity": tags(ops),
		// key=value labels an organisation gives its cameras (sites,
		// cost centres): its own words.
		"labels":  tags(content),
		"site_id": tags(id),
	}},
	"grants": {Tags: tags(coltags.Camera, security), Columns: map[string][]string{
		"camera_id": tags(id), "user_id": tags(id), "permissions": tags(security),
	}},
	"camera_changes": {Tags: tags(coltags.Platform), Columns: map[string][]string{
		"zone": tags(ops), "token": tags(ops),
	}},
	"audit_log": {Tags: tags(coltags.Audit, security), Append: "seq", Columns: map[string][]string{
		"seq": tags(ops), "time_us": tags(ops),
		"actor": tags(pii), "actor_as": tags(pii), "address": tags(pii),
		"action": tags(security), "target": tags(content),
		"org_id": tags(id), "camera_id": tags(id), "detail": tags(content),
		// The chain hashes are keyed digests, not credentials.
		"prev_hash": tags(security), "hash": tags(security),
	}},
	"webhooks": {Tags: tags(coltags.Integration), Columns: map[string][]string{
		"id": tags(id), "org_id": tags(id),
		// Receivers' URLs often are their credential (a token in the path).
		"url":         tags(secret),
		"description": tags(content),
		"secret":      tags(secret), "prev_secret": tags(secret), "prev_until_us": tags(ops),
		"types": tags(content), "cameras": tags(id),
		"enabled": tags(ops), "disabled_reason": tags(ops), "disabled_us": tags(ops),
		"created_by": tags(id), "created_us": tags(ops), "updated_us": tags(ops),
	}},
	"webhook_cursors": {Tags: tags(coltags.Integration), Columns: map[string][]string{
		"webhook_id": tags(id), "zone": tags(ops), "seq": tags(ops), "lease_owner": tags(ops),
		"lease_until_us": tags(ops), "attempts": tags(ops), "next_attempt_us": tags(ops), "failing_since_us": tags(ops),
	}},
	"webhook_deliveries": {Tags: tags(coltags.Integration), Columns: map[string][]string{
		"webhook_id": tags(id), "at_us": tags(ops), "id": tags(id), "event_id": tags(id),
		"event_type": tags(ops), "zone": tags(ops), "seq": tags(ops), "attempt": tags(usage),
		"status": tags(ops), "duration_us": tags(ops), "lag_us": tags(ops), "error": tags(ops), "node": tags(ops),
	}},
	// Sites and their edge agents: the enrolment and credential hashes
	// never leave.
	"sites": {Tags: tags(coltags.Camera), Columns: map[string][]string{
		"id": tags(id), "org_id": tags(id), "name": tags(content),
		"enrol_hash": tags(secret), "enrol_until_us": tags(ops), "cred_hash": tags(secret),
		"revoked_us": tags(ops), "enrolled_us": tags(ops), "created_by": tags(id), "created_us": tags(ops),
		"last_seen_us": tags(ops), "agent_version": tags(ops), "buffer_used_bytes": tags(usage),
		"buffer_max_bytes": tags(usage), "backlog_ms": tags(usage), "backlog_bytes": tags(usage), "upload_bps": tags(usage),
	}},
	// Share links: the token and password hashes never leave.
	"shares": {Tags: tags(coltags.Camera, security), Columns: map[string][]string{
		"id": tags(id), "org_id": tags(id), "camera_id": tags(id), "live": tags(usage),
		"from_us": tags(usage), "to_us": tags(usage), "token_hash": tags(secret), "password_hash": tags(secret),
		"allow_download": tags(usage), "max_views": tags(usage), "views": tags(usage), "note": tags(content),
		"created_by": tags(id), "created_by_email": tags(pii), "created_us": tags(ops),
		"expires_us": tags(ops), "revoked_us": tags(ops), "revoked_by": tags(pii),
	}},
	// Legal holds: who held which range, and why (the reason is the
	// organisation's own words).
	"holds": {Tags: tags(coltags.Recording, security), Columns: map[string][]string{
		"id": tags(id), "org_id": tags(id), "camera_id": tags(id), "from_us": tags(usage), "to_us": tags(usage),
		"reason": tags(content), "created_by": tags(id), "created_by_email": tags(pii), "created_us": tags(ops),
	}},
	"org_storage": {Tags: tags(usage), Columns: map[string][]string{
		"org_id": tags(id), "zone": tags(ops), "used_bytes": tags(usage), "segments": tags(usage),
		"oldest_us": tags(usage), "updated_us": tags(ops),
	}},
	// The evidence signing key: its private half (sealed) never leaves.
	"evidence_keys": {Tags: tags(coltags.Platform, security), Columns: map[string][]string{
		"id": tags(id), "public_key": tags(security), "private_key": tags(secret), "created_us": tags(ops),
	}},
	"exports": {Tags: tags(coltags.Recording), Columns: map[string][]string{
		"id": tags(id), "org_id": tags(id), "camera_id": tags(id), "zone": tags(ops),
		"from_us": tags(usage), "to_us": tags(usage), "evidence": tags(usage), "watermark": tags(usage),
		"state": tags(ops), "progress": tags(ops), "error": tags(ops), "audit_seq": tags(security),
		"object_key": tags(ops), "size": tags(usage), "sha256": tags(security),
		"lease_owner": tags(ops), "lease_until_us": tags(ops), "attempts": tags(ops),
		"created_by": tags(id), "created_email": tags(pii), "created_us": tags(usage),
		"updated_us": tags(ops), "expires_us": tags(ops),
	}},
}

var zonePolicy = Policy{
	"schema_migrations": schemaMigrationsPolicy,
	// indexed_us (zone migration 11) is when the row was indexed: it only
	// grows, whatever the segment's own times (a backfilled segment's end
	// is long past); the export reads up to a settling lag behind it, for
	// commits in flight and nodes' clocks apart (internal/dataexport).
	"segments": {Tags: tags(coltags.Recording), Append: "indexed_us", Columns: map[string][]string{
		"camera_id": tags(id), "start_us": tags(usage), "end_us": tags(usage), "size": tags(usage),
		"obj_key": tags(ops), "init_key": tags(ops), "codec": tags(usage), "fragments": tags(ops),
		"backfilled": tags(ops), "sha256": tags(ops), "indexed_us": tags(ops),
	}},
	// Pending backfill uploads of edge agents (zone migration 8).
	"agent_uploads": {Tags: tags(coltags.Recording), Columns: map[string][]string{
		"id": tags(id), "camera_id": tags(id), "start_us": tags(usage), "end_us": tags(usage), "size": tags(usage),
		"sha256": tags(ops), "init_hash": tags(ops), "offset_bytes": tags(ops), "created_us": tags(ops), "expires_us": tags(ops),
	}},
	"camera_status": {Tags: tags(coltags.Camera), Columns: map[string][]string{
		"camera_id": tags(id), "online": tags(ops), "codec": tags(usage), "bitrate_kbps": tags(usage),
		"last_seen_us": tags(ops), "server_id": tags(ops),
		"recording": tags(ops), "recording_reason": tags(ops), "unrecorded_tracks": tags(ops),
		"offline_reason": tags(ops), "offline_since_us": tags(ops),
	}},
	"camera_presence": {Tags: tags(coltags.Camera), Columns: map[string][]string{
		"camera_id": tags(id), "state": tags(ops), "server_id": tags(ops), "since_us": tags(ops),
	}},
	"servers": {Tags: tags(coltags.Platform), Columns: map[string][]string{
		"id": tags(ops), "addr": tags(ops), "capacity": tags(ops), "seen_us": tags(ops), "draining": tags(ops),
	}},
	"leases": {Tags: tags(coltags.Platform), Columns: map[string][]string{
		"camera_id": tags(id), "server_id": tags(ops), "expires_us": tags(ops),
	}},
	"events": {Tags: tags(coltags.Events), Append: "seq", Columns: map[string][]string{
		"camera_id": tags(id), "start_us": tags(usage), "id": tags(id), "org_id": tags(id),
		"type": tags(usage), "end_us": tags(usage), "ongoing": tags(ops), "detail": tags(content),
		"source": tags(ops), "seq": tags(ops),
	}},
	"event_seq": {Tags: tags(coltags.Platform), Columns: map[string][]string{
		"name": tags(ops), "n": tags(ops),
	}},
	// The one record of what each camera stores (zone migration 10 added
	// its organisation).
	"segment_usage": {Tags: tags(usage), Columns: map[string][]string{
		"camera_id": tags(id), "bytes": tags(usage), "segments": tags(usage), "org_id": tags(id),
	}},
	"bookmarks": {Tags: tags(coltags.Recording), Columns: map[string][]string{
		"camera_id": tags(id), "start_us": tags(usage), "id": tags(id), "org_id": tags(id),
		"end_us": tags(usage), "name": tags(content), "note": tags(content),
		"created_by": tags(id), "created_email": tags(pii), "created_us": tags(ops),
	}},
	// Usage rows are upserted (flushes add to a day's counters), so they
	// are exported whole each run.
	"usage_daily": {Tags: tags(usage), Columns: usageDailyPolicy()},
	// Retired by zone migration 10 (segment_usage holds the figure): only
	// nodes of an older version write it, during an upgrade.
	"usage_storage": {Tags: tags(usage), Columns: map[string][]string{
		"camera_id": tags(id), "org_id": tags(id), "bytes": tags(usage),
	}},
}

// usageDailyPolicy tags usage_daily: its keys, and every counter column
// (UsageCounterColumns) as usage, so that a counter added there is tagged.
func usageDailyPolicy() map[string][]string {
	cols := map[string][]string{"org_id": tags(id), "camera_id": tags(id), "day_us": tags(usage), "stored_bytes": tags(usage)}
	for _, n := range UsageCounterColumns {
		cols[n] = tags(usage)
	}
	return cols
}
