package auth

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSecretBox(t *testing.T) {
	b, err := NewSecretBox(testKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewSecretBox(make([]byte, 8)); err == nil {
		t.Error("accepted a short key")
	}
	sealed, err := b.Seal("JBSWY3DPEHPK3PXP", "user1")
	if err != nil {
		t.Fatal(err)
	}
	if !Sealed(sealed) || strings.Contains(sealed, "JBSWY3DPEHPK3PXP") {
		t.Fatalf("sealed form %q", sealed)
	}
	if again, _ := b.Seal("JBSWY3DPEHPK3PXP", "user1"); again == sealed {
		t.Error("two seals of one secret are equal (nonce reused)")
	}
	if got, err := b.Open(sealed, "user1"); err != nil || got != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	other, _ := NewSecretBox(testKey2)
	flipped := []byte(sealed)
	flipped[len(flipped)-3] ^= 1
	var none *SecretBox
	for name, open := range map[string]func() (string, error){
		"other user":    func() (string, error) { return b.Open(sealed, "user2") },
		"other key":     func() (string, error) { return other.Open(sealed, "user1") },
		"tampered":      func() (string, error) { return b.Open(string(flipped), "user1") },
		"truncated":     func() (string, error) { return b.Open(sealed[:12], "user1") },
		"no key at all": func() (string, error) { return none.Open(sealed, "user1") },
	} {
		if _, err := open(); !errors.Is(err, ErrSealed) {
			t.Errorf("%s: error %v, want ErrSealed", name, err)
		}
	}
	// Legacy plaintext passes through, with or without a key.
	for _, box := range []*SecretBox{b, nil} {
		if got, err := box.Open("JBSWY3DPEHPK3PXP", "user1"); err != nil || got != "JBSWY3DPEHPK3PXP" {
			t.Errorf("legacy Open = %q, %v", got, err)
		}
	}
	if got, _ := none.Seal("x", "u"); got != "x" {
		t.Errorf("nil box sealed to %q", got)
	}
}

func TestRecoveryCodes(t *testing.T) {
	codes, err := NewRecoveryCodes()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if len(c) != 19 || strings.Count(c, "-") != 3 || seen[c] || LooksLikeTOTP(c) {
			t.Fatalf("code %q", c)
		}
		seen[c] = true
		h, ok := HashRecoveryCode("u1", c)
		if !ok {
			t.Fatalf("own code %q refused", c)
		}
		if h2, _ := HashRecoveryCode("u1", " "+strings.ToUpper(strings.ReplaceAll(c, "-", ""))+" "); h2 != h {
			t.Errorf("canonical forms of %q hash differently", c)
		}
		if h3, _ := HashRecoveryCode("u2", c); h3 == h {
			t.Error("hash not bound to the user")
		}
	}
	if len(codes) != RecoveryCodeCount {
		t.Fatalf("%d codes", len(codes))
	}
	for _, bad := range []string{"", "123456", "abcd-efgh-ijkl-mno", "abcd-efgh-ijkl-mno1", strings.Repeat("a", 100)} {
		if _, ok := HashRecoveryCode("u1", bad); ok {
			t.Errorf("accepted %q", bad)
		}
	}
	if !LooksLikeTOTP(" 123 456 ") || LooksLikeTOTP("12345a") {
		t.Error("LooksLikeTOTP")
	}
}

func TestRecent(t *testing.T) {
	r := NewRecent(time.Hour, 2)
	now := time.Unix(1000, 0)
	r.Add("a", now)
	if !r.Has("a", now.Add(59*time.Minute)) || r.Has("a", now.Add(time.Hour)) || r.Has("b", now) {
		t.Fatal("Has")
	}
	r.Add("a", now)
	r.Add("b", now)
	r.Add("c", now) // forgets the least recently used, a
	if r.Has("a", now) || !r.Has("b", now) || !r.Has("c", now) {
		t.Fatal("bounded memory")
	}
}
