// Package coltags is the vocabulary of column tags: the words the store's
// tag policy (internal/store/tags.go) classifies every table and column
// with, and that export audiences grant (internal/config, internal/dataexport).
// It is its own package so that the configuration can check a grant without
// importing the store.
package coltags

import (
	"fmt"
	"slices"
	"strings"
)

// Sensitivity tags: what a column holds.
const (
	// Secret: credentials and keys (password, API key and recovery code
	// hashes, TOTP secrets, ingest secrets, sealed webhook secrets,
	// session tokens, signing keys). Never exported, whatever a grant says.
	Secret = "secret"
	// PII: personal data (email addresses, client addresses, who did what).
	PII = "pii"
	// ID: an identifier of a row (organisation, user, camera, event):
	// what joins tables; usually granted pseudonymised.
	ID = "id"
	// Content: what customers typed or configured (names, descriptions,
	// camera URLs, event details).
	Content = "content"
	// Security: roles, grants, permissions, second factors, audit records.
	Security = "security"
	// Ops: operational state (servers, leases, status, heartbeats, times
	// of creation and change).
	Ops = "ops"
	// Usage: volumes (recorded times, sizes, counts): what is metered.
	Usage = "usage"
)

// Domain tags: what a table is about; every column of the table carries
// its table's tags.
const (
	Account     = "account"     // organisations, users, memberships, sessions, keys
	Camera      = "camera"      // cameras, their grants, status and presence
	Recording   = "recording"   // the segment index
	Events      = "events"      // the event log
	Audit       = "audit"       // the audit log
	Integration = "integration" // webhooks and their deliveries
	Platform    = "platform"    // servers, leases, schema versions, counters
)

// Known lists every tag, sorted.
var known = []string{Account, Audit, Camera, Content, Events, ID, Integration, Ops, PII, Platform, Recording, Secret, Security, Usage}

// Known returns every tag, sorted.
func Known() []string { return slices.Clone(known) }

// IsKnown reports whether t is a tag of the vocabulary.
func IsKnown(t string) bool {
	_, ok := slices.BinarySearch(known, t)
	return ok
}

// CheckGrant checks the tags an audience is granted: each must be known and
// none may be Secret (secret columns never leave, so granting them is a
// configuration mistake, not a way to get them).
func CheckGrant(tags []string) error {
	seen := map[string]bool{}
	for _, t := range tags {
		switch {
		case t == Secret:
			return fmt.Errorf("tag %q cannot be granted: secret columns are never exported", t)
		case !IsKnown(t):
			return fmt.Errorf("unknown tag %q (the tags are %s)", t, strings.Join(known, ", "))
		case seen[t]:
			return fmt.Errorf("tag %q is granted twice", t)
		}
		seen[t] = true
	}
	return nil
}
