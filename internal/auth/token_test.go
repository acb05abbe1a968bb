package auth

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestNewToken(t *testing.T) {
	seen := map[string]bool{}
	for _, prefix := range []string{SessionPrefix, APIKeyPrefix, ""} {
		for range 3 {
			tok, hash, err := NewToken(prefix)
			if err != nil {
				t.Fatal(err)
			}
			rest, ok := strings.CutPrefix(tok, prefix)
			if !ok {
				t.Fatalf("token %q lacks prefix %q", tok, prefix)
			}
			raw, err := base64.RawURLEncoding.DecodeString(rest)
			if err != nil || len(raw) != 32 {
				t.Fatalf("token body %q: %d bytes, %v; want 32 bytes of base64url", rest, len(raw), err)
			}
			if hash != HashToken(tok) {
				t.Fatalf("returned hash %q != HashToken %q", hash, HashToken(tok))
			}
			if seen[tok] {
				t.Fatalf("token %q repeated", tok)
			}
			seen[tok] = true
		}
	}
}

func TestHashToken(t *testing.T) {
	// SHA-256 of "abc", a published test vector.
	const want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if got := HashToken("abc"); got != want {
		t.Fatalf("HashToken(abc) = %s; want %s", got, want)
	}
	if HashToken("cc_s_a") == HashToken("cc_k_a") {
		t.Fatal("prefix does not change the hash")
	}
}
