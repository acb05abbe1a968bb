package auth

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"
)

// Recovery codes stand in for a TOTP code once each when the
// authenticator is lost: 16 base32 characters (80 random bits) shown as
// four groups, e.g. "k3q7-m2xa-p9rt-w4bz". With 80 bits a fast hash at
// rest is enough, as for tokens.
const (
	// RecoveryCodeCount is how many codes a user gets at a time.
	RecoveryCodeCount = 10
	recoveryBytes     = 10
	maxRecoveryInput  = 64
)

// recoveryEncoding is lower-case base32 without padding.
var recoveryEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewRecoveryCodes returns RecoveryCodeCount new codes, to show once.
func NewRecoveryCodes() ([]string, error) {
	out := make([]string, RecoveryCodeCount)
	for i := range out {
		b := make([]byte, recoveryBytes)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("auth: reading random recovery code: %w", err)
		}
		s := recoveryEncoding.EncodeToString(b)
		out[i] = s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
	}
	return out, nil
}

// HashRecoveryCode returns what is stored for code of userID: the SHA-256
// of its canonical form (lower case, without dashes or spaces), bound to
// the user. ok is false when code cannot be a recovery code.
func HashRecoveryCode(userID, code string) (hash string, ok bool) {
	if len(code) > maxRecoveryInput {
		return "", false
	}
	c := strings.NewReplacer("-", "", " ", "").Replace(strings.ToLower(strings.TrimSpace(code)))
	if len(c) != 16 {
		return "", false
	}
	if _, err := recoveryEncoding.DecodeString(c); err != nil {
		return "", false
	}
	return HashToken("camcloud recovery code v1|" + userID + "|" + c), true
}

// LooksLikeTOTP reports whether code has the shape of a 6-digit TOTP code
// (spaces ignored), as opposed to a recovery code.
func LooksLikeTOTP(code string) bool {
	c := strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	return len(c) == 6 && strings.TrimLeft(c, "0123456789") == ""
}
