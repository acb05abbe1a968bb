package dataexport

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"slices"
	"strconv"

	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/coltags"
	"github.com/camcloud/camcloud/internal/store"
)

// Audience is one consumer of the export (from config.Audience, its store
// opened).
type Audience struct {
	// Name names the audience; its files go under audience=NAME/.
	Name string
	// Clear and Pseudonymise are its granted tags (checked with
	// coltags.CheckGrant).
	Clear, Pseudonymise []string
	// Key keys its pseudonyms (HMAC-SHA256).
	Key []byte
	// Store receives its files; only it should hold the credentials.
	Store blob.Store
}

// Treatment is what an audience gets of a column.
type Treatment string

// The treatments of a column.
const (
	Drop   Treatment = ""
	Clear  Treatment = "clear"
	Pseudo Treatment = "pseudonymised"
)

// treat decides what an audience gets of a column with tags: clear when
// every tag is granted in clear, pseudonymised when every tag is granted
// and one only pseudonymised, else (and always for secret, or no tags)
// nothing.
func (a *Audience) treat(tags []string) Treatment {
	if len(tags) == 0 || slices.Contains(tags, coltags.Secret) {
		return Drop
	}
	t := Clear
	for _, tag := range tags {
		switch {
		case slices.Contains(a.Clear, tag):
		case slices.Contains(a.Pseudonymise, tag):
			t = Pseudo
		default:
			return Drop
		}
	}
	return t
}

// grantVersion is a digest of the audience's grant and the tag policies,
// the manifest's policy_version: files cut under another one may hold
// other columns.
func (a *Audience) grantVersion(policies ...store.Policy) string {
	h := sha256.New()
	for _, p := range policies {
		h.Write([]byte(p.Version() + "\n"))
	}
	c, p := slices.Clone(a.Clear), slices.Clone(a.Pseudonymise)
	slices.Sort(c)
	slices.Sort(p)
	h.Write([]byte("clear=" + join(c) + "\npseudonymise=" + join(p) + "\n"))
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func join(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += ","
		}
		out += v
	}
	return out
}

// pseudonymLen is the length of a pseudonym in hex digits (128 bits).
const pseudonymLen = 32

// pseudonymiser turns values into the audience's pseudonyms: the HMAC of
// the value's text under the audience key, so equal values get equal
// pseudonyms in every table and every run (joins work), and nobody without
// the key can tell or test the value.
type pseudonymiser struct {
	mac hash.Hash
	buf []byte
}

func newPseudonymiser(key []byte) *pseudonymiser {
	return &pseudonymiser{mac: hmac.New(sha256.New, key)}
}

// of writes the pseudonym of v (an int64 or []byte) into out (of
// pseudonymLen bytes) and returns it.
func (p *pseudonymiser) of(v any, out []byte) []byte {
	p.mac.Reset()
	switch x := v.(type) {
	case int64:
		p.buf = strconv.AppendInt(p.buf[:0], x, 10)
		p.mac.Write(p.buf)
	case []byte:
		p.mac.Write(x)
	}
	p.buf = p.mac.Sum(p.buf[:0])
	hex.Encode(out, p.buf[:pseudonymLen/2])
	return out
}
