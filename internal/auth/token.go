package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// Token prefixes: they make a leaked token recognisable (secret scanners,
// logs) and tell sessions from API keys at a glance.
const (
	SessionPrefix = "cc_s_"
	APIKeyPrefix  = "cc_k_"
)

// tokenBytes is the entropy of a token: 256 bits.
const tokenBytes = 32

// NewToken returns a new random token, prefix followed by 32 random bytes in
// unpadded base64url, and its hash (HashToken) to store instead of it.
func NewToken(prefix string) (token string, hash string, err error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("auth: reading random token: %w", err)
	}
	token = prefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token), nil
}

// HashToken returns the lowercase hex SHA-256 of token: what the database
// keeps, so a database leak does not leak usable tokens. Tokens carry 256
// random bits, so a fast hash is enough (no password stretching needed).
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
