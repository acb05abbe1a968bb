package auth

import (
	"net/url"
	"testing"
	"time"
)

func TestNewTOTP(t *testing.T) {
	secret, u, err := NewTOTP("camcloud", "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(secret) != 32 { // 20 bytes in unpadded base32
		t.Errorf("secret %q has %d characters; want 32", secret, len(secret))
	}
	pu, err := url.Parse(u)
	if err != nil || pu.Scheme != "otpauth" || pu.Host != "totp" {
		t.Fatalf("otpauth URL %q: %v", u, err)
	}
	if got := pu.Query().Get("secret"); got != secret {
		t.Errorf("URL secret %q != %q", got, secret)
	}
	if got := pu.Query().Get("issuer"); got != "camcloud" {
		t.Errorf("URL issuer %q", got)
	}
	if _, _, err := NewTOTP("", "bob"); err == nil {
		t.Error("NewTOTP accepted an empty issuer")
	}
}

func TestCheckTOTP(t *testing.T) {
	// RFC 6238 appendix B secret "12345678901234567890" (base32 below);
	// at 59 s the 8-digit SHA-1 code is 94287082, so the 6-digit one is 287082.
	const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	at := time.Unix(59, 0)
	code, err := TOTPCode(secret, at)
	if err != nil || code != "287082" {
		t.Fatalf("TOTPCode = %q, %v; want 287082", code, err)
	}
	for _, tc := range []struct {
		name   string
		secret string
		code   string
		now    time.Time
		want   bool
	}{
		{"exact", secret, "287082", at, true},
		{"spaces", secret, " 287 082 ", at, true},
		{"lowercase secret", "gezdgnbvgy3tqojqgezdgnbvgy3tqojq", "287082", at, true},
		{"one step later", secret, "287082", at.Add(30 * time.Second), true},
		{"two steps later", secret, "287082", at.Add(61 * time.Second), false},
		{"one step earlier", secret, "287082", at.Add(-29 * time.Second), true},
		{"wrong code", secret, "287083", at, false},
		{"other secret", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "287082", at, false},
		{"short code", secret, "28708", at, false},
		{"long code", secret, "2870820", at, false},
		{"letters", secret, "28708a", at, false},
		{"empty code", secret, "", at, false},
		{"bad secret", "not base32!", "287082", at, false},
		{"empty secret", "", "287082", at, false},
	} {
		if got := CheckTOTP(tc.secret, tc.code, tc.now); got != tc.want {
			t.Errorf("%s: CheckTOTP = %v; want %v", tc.name, got, tc.want)
		}
	}
}

func TestTOTPRoundTrip(t *testing.T) {
	secret, _, err := NewTOTP("camcloud", "a@b")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	code, err := TOTPCode(secret, now)
	if err != nil {
		t.Fatal(err)
	}
	if !CheckTOTP(secret, code, now) {
		t.Fatal("own code rejected")
	}
	if _, err := TOTPCode("!!", now); err == nil {
		t.Error("TOTPCode accepted a bad secret")
	}
}
