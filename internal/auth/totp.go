package auth

import (
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP settings: the ones every authenticator app understands.
const (
	totpPeriod     = 30
	totpSecretSize = 20 // 160 bits, as RFC 4226 recommends
	maxTOTPSecret  = 128
)

// totpOpts is how codes are made and checked: 6 digits, SHA-1, 30 s steps,
// one step of clock skew either way.
var totpOpts = totp.ValidateOpts{
	Period:    totpPeriod,
	Skew:      1,
	Digits:    otp.DigitsSix,
	Algorithm: otp.AlgorithmSHA1,
}

// NewTOTP makes a new TOTP secret (base32) for account at issuer and the
// otpauth:// URL that authenticator apps import (usually as a QR code).
func NewTOTP(issuer, account string) (secret, otpauthURL string, err error) {
	if issuer == "" || account == "" {
		return "", "", fmt.Errorf("auth: TOTP needs an issuer and an account name")
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      totpPeriod,
		SecretSize:  totpSecretSize,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return "", "", fmt.Errorf("auth: generating TOTP secret: %w", err)
	}
	return key.Secret(), key.URL(), nil
}

// CheckTOTP reports whether code is the 6-digit TOTP code of secret at now,
// allowing one 30 s step of clock skew either way. Spaces in code are
// ignored; anything else malformed is simply not a match.
func CheckTOTP(secret, code string, now time.Time) bool {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != 6 || strings.TrimLeft(code, "0123456789") != "" {
		return false
	}
	if secret == "" || len(secret) > maxTOTPSecret {
		return false
	}
	ok, err := totp.ValidateCustom(code, secret, now, totpOpts)
	return err == nil && ok
}

// MatchTOTP is CheckTOTP that also returns the time step (Unix time / 30 s)
// whose code matched, so that callers can refuse a code used before.
func MatchTOTP(secret, code string, now time.Time) (step int64, ok bool) {
	if !CheckTOTP(secret, code, now) {
		return 0, false
	}
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	base := now.Unix() / int64(totpPeriod)
	for _, d := range []int64{0, -1, 1} {
		c, err := TOTPCode(secret, time.Unix((base+d)*int64(totpPeriod), 0))
		if err == nil && c == code {
			return base + d, true
		}
	}
	return 0, false
}

// TOTPCode returns the code of secret at now, as an authenticator app would
// show it (tests and the simulator use it to log in).
func TOTPCode(secret string, now time.Time) (string, error) {
	if secret == "" || len(secret) > maxTOTPSecret {
		return "", fmt.Errorf("auth: TOTP secret is empty or too long")
	}
	code, err := totp.GenerateCodeCustom(secret, now, totpOpts)
	if err != nil {
		return "", fmt.Errorf("auth: TOTP code: %w", err)
	}
	return code, nil
}
