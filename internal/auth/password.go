package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password policy bounds for new passwords.
const (
	// MinPasswordChars is the fewest characters (runes) a new password may have.
	MinPasswordChars = 10
	// MaxPasswordBytes bounds any password, so hashing cost stays bounded.
	MaxPasswordBytes = 256
)

// Argon2id parameters used for new hashes, after OWASP's recommendation
// (19 MiB of memory, two passes, one lane).
const (
	argonMemoryKiB = 19456
	argonTime      = 2
	argonThreads   = 1
	argonSaltLen   = 16
	argonKeyLen    = 32
)

// Bounds on stored hashes: a hostile or corrupt hash must not make a login
// allocate gigabytes or spin for minutes.
const (
	maxEncodedHash = 512
	maxMemoryKiB   = 256 * 1024
	maxTime        = 16
	maxThreads     = 16
	minSaltLen     = 8
	maxSaltLen     = 64
	minKeyLen      = 16
	maxKeyLen      = 64
)

// ErrMalformedHash is returned (wrapped) when a stored password hash cannot
// be decoded or carries parameters outside the accepted bounds.
var ErrMalformedHash = errors.New("auth: malformed password hash")

// argonParams are the decoded parts of a PHC argon2id string.
type argonParams struct {
	memory  uint32
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

// ValidatePassword checks a new password against the policy: valid UTF-8,
// at least MinPasswordChars characters and at most MaxPasswordBytes bytes.
func ValidatePassword(pw string) error {
	if !utf8.ValidString(pw) {
		return errors.New("password must be valid UTF-8 text")
	}
	if n := utf8.RuneCountInString(pw); n < MinPasswordChars {
		return fmt.Errorf("password must have at least %d characters (it has %d)", MinPasswordChars, n)
	}
	if len(pw) > MaxPasswordBytes {
		return fmt.Errorf("password must be at most %d bytes (it has %d)", MaxPasswordBytes, len(pw))
	}
	return nil
}

// HashPassword hashes pw with argon2id and a random salt and returns the PHC
// string form, e.g. "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>". It does
// not apply the policy (see ValidatePassword) but refuses passwords longer
// than MaxPasswordBytes.
func HashPassword(pw string) (string, error) {
	if len(pw) > MaxPasswordBytes {
		return "", fmt.Errorf("auth: password longer than %d bytes", MaxPasswordBytes)
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: reading random salt: %w", err)
	}
	p := argonParams{memory: argonMemoryKiB, time: argonTime, threads: argonThreads, salt: salt}
	p.key = argon2.IDKey([]byte(pw), salt, p.time, p.memory, p.threads, argonKeyLen)
	return encodeHash(p), nil
}

// VerifyPassword reports whether pw matches the PHC-encoded argon2id hash.
// The comparison is constant-time. A malformed or out-of-bounds encoding is
// an error (wrapping ErrMalformedHash), never a match.
func VerifyPassword(encoded, pw string) (bool, error) {
	p, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	if len(pw) > MaxPasswordBytes {
		// No stored password can be this long; skip the expensive hash.
		return false, nil
	}
	got := argon2.IDKey([]byte(pw), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(got, p.key) == 1, nil
}

// DummyVerifyPassword spends the same work as VerifyPassword with current
// parameters and discards the result. Login handlers call it when the
// account does not exist, so response time does not reveal which emails
// have accounts.
func DummyVerifyPassword(pw string) {
	if len(pw) > MaxPasswordBytes {
		return
	}
	salt := make([]byte, argonSaltLen)
	_ = argon2.IDKey([]byte(pw), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
}

// NeedsRehash reports whether encoded was made with parameters other than the
// current ones, so callers can re-hash after a successful login.
func NeedsRehash(encoded string) bool {
	p, err := decodeHash(encoded)
	if err != nil {
		return true
	}
	return p.memory != argonMemoryKiB || p.time != argonTime || p.threads != argonThreads ||
		len(p.salt) != argonSaltLen || len(p.key) != argonKeyLen
}

// encodeHash writes p in the PHC string format (unpadded standard base64).
func encodeHash(p argonParams) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads, b64.EncodeToString(p.salt), b64.EncodeToString(p.key))
}

// decodeHash parses a PHC argon2id string and checks every parameter against
// the bounds above.
func decodeHash(encoded string) (argonParams, error) {
	var p argonParams
	if len(encoded) > maxEncodedHash {
		return p, fmt.Errorf("%w: longer than %d bytes", ErrMalformedHash, maxEncodedHash)
	}
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	if len(parts) != 6 || parts[0] != "" {
		return p, fmt.Errorf("%w: want 5 '$'-separated fields", ErrMalformedHash)
	}
	if parts[1] != "argon2id" {
		return p, fmt.Errorf("%w: algorithm %q is not argon2id", ErrMalformedHash, parts[1])
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, fmt.Errorf("%w: unsupported version field %q", ErrMalformedHash, parts[2])
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return p, fmt.Errorf("%w: want parameters m,t,p", ErrMalformedHash)
	}
	m, err := parseParam(params[0], "m", 1, maxMemoryKiB)
	if err != nil {
		return p, err
	}
	t, err := parseParam(params[1], "t", 1, maxTime)
	if err != nil {
		return p, err
	}
	th, err := parseParam(params[2], "p", 1, maxThreads)
	if err != nil {
		return p, err
	}
	if m < 8*th {
		return p, fmt.Errorf("%w: memory m=%d below 8*p", ErrMalformedHash, m)
	}
	p.memory, p.time, p.threads = uint32(m), uint32(t), uint8(th)
	if p.salt, err = decodeB64(parts[4], "salt", minSaltLen, maxSaltLen); err != nil {
		return p, err
	}
	if p.key, err = decodeB64(parts[5], "hash", minKeyLen, maxKeyLen); err != nil {
		return p, err
	}
	return p, nil
}

// parseParam parses "name=value" with value a plain decimal in [lo, hi].
func parseParam(s, name string, lo, hi uint64) (uint64, error) {
	v, ok := strings.CutPrefix(s, name+"=")
	if !ok {
		return 0, fmt.Errorf("%w: want parameter %s", ErrMalformedHash, name)
	}
	if v == "" || len(v) > 10 || strings.TrimLeft(v, "0123456789") != "" || (len(v) > 1 && v[0] == '0') {
		return 0, fmt.Errorf("%w: parameter %s is not a plain decimal", ErrMalformedHash, name)
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%w: parameter %s=%s outside [%d, %d]", ErrMalformedHash, name, v, lo, hi)
	}
	return n, nil
}

// decodeB64 decodes an unpadded standard base64 field of bounded length.
func decodeB64(s, name string, lo, hi int) ([]byte, error) {
	b, err := base64.RawStdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not unpadded base64", ErrMalformedHash, name)
	}
	if len(b) < lo || len(b) > hi {
		return nil, fmt.Errorf("%w: %s has %d bytes, want %d to %d", ErrMalformedHash, name, len(b), lo, hi)
	}
	return b, nil
}
