package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"time"

	"github.com/camcloud/camcloud/internal/store"
)

// hashDomain starts every hashed encoding, so the format can change later
// (with a new tag) without old and new hashes being confusable.
const hashDomain = "camcloud-audit-v1"

// keyedDomain starts the encoding of keyed entries.
const keyedDomain = "camcloud-audit-v2-hmac"

// ComputeHash returns the lowercase hex SHA-256 of e's canonical encoding:
// every field except Hash, in a fixed order, each written as an 8-byte
// big-endian length followed by its bytes (so no two entries encode alike),
// with Time as RFC 3339 in UTC with nanoseconds. It is the unkeyed rule of
// entries written before the log had a key: anyone can recompute it.
func ComputeHash(e store.AuditEntry) string {
	return digest(sha256.New(), hashDomain, e)
}

// ComputeKeyedHash is the rule of keyed entries: HMAC-SHA256 under the
// chain key (derived from the audit key, see Key) of the same encoding with
// its own domain tag, so that no one without the key can compute it.
func ComputeKeyedHash(k Key, e store.AuditEntry) string {
	return digest(hmac.New(sha256.New, k.chain), keyedDomain, e)
}

// digest writes e's canonical encoding, after domain, into h.
func digest(h hash.Hash, domain string, e store.AuditEntry) string {
	var n [8]byte
	put := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	put(domain)
	binary.BigEndian.PutUint64(n[:], uint64(e.Seq))
	put(string(n[:]))
	put(e.Time.UTC().Format(time.RFC3339Nano))
	put(e.Actor)
	put(e.ActorAs)
	put(e.Address)
	put(e.Action)
	put(e.Target)
	put(e.OrgID)
	put(e.CameraID)
	put(e.Detail)
	put(e.PrevHash)
	return hex.EncodeToString(h.Sum(nil))
}
