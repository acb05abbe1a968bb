// Package auth holds the credential primitives of camcloud: argon2id password
// hashes, random session and API-key tokens (stored only as hashes), TOTP
// second factors and their one-time recovery codes, an AES-GCM box that
// keeps TOTP secrets encrypted at rest, signed short-lived media tokens that
// camera servers check without a database call, and memory-bounded rate
// limiters.
//
// It is pure library code: it speaks no HTTP and touches no database, so the
// api handlers and camera servers can share it and tests can drive it with a
// fixed clock.
package auth
