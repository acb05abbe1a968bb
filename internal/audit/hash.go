package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"

	"github.com/camcloud/camcloud/internal/store"
)

// hashDomain starts every hashed encoding, so the format can change later
// (with a new tag) without old and new hashes being confusable.
const hashDomain = "camcloud-audit-v1"

// ComputeHash returns the lowercase hex SHA-256 of e's canonical encoding:
// every field except Hash, in a fixed order, each written as an 8-byte
// big-endian length followed by its bytes (so no two entries encode alike),
// with Time as RFC 3339 in UTC with nanoseconds.
func ComputeHash(e store.AuditEntry) string {
	h := sha256.New()
	var n [8]byte
	put := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	put(hashDomain)
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
