package auth

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

var (
	testKey  = bytes.Repeat([]byte("k"), 32)
	testKey2 = bytes.Repeat([]byte("q"), 32)
	t0       = time.Date(2025, 6, 1, 10, 0, 0, 123456789, time.UTC)
)

func TestNewSignerKeyLength(t *testing.T) {
	if _, err := NewSigner(make([]byte, 31)); err == nil {
		t.Error("accepted a 31-byte key")
	}
	if _, err := NewSigner(testKey, make([]byte, 8)); err == nil {
		t.Error("accepted a short previous key")
	}
	if _, err := NewSigner(testKey, testKey2); err != nil {
		t.Error(err)
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	s, _ := NewSigner(testKey)
	for _, c := range []MediaClaims{
		{CameraID: "cam1", Perm: "live", Expires: t0.Add(time.Minute), Subject: "user1"},
		{CameraID: "cam-ü", Perm: "playback", Expires: t0.Add(time.Hour),
			From: t0.Add(-2 * time.Hour), To: t0.Add(-time.Hour).Add(7), Subject: "u"},
		{CameraID: "c", Perm: "export", Expires: t0.Add(time.Second), From: t0, To: t0},
	} {
		tok, err := s.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(tok, "+/=?&# ") {
			t.Errorf("token %q is not URL-safe", tok)
		}
		got, err := s.Verify(tok, t0)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if got.CameraID != c.CameraID || got.Perm != c.Perm || got.Subject != c.Subject ||
			!got.Expires.Equal(c.Expires) || !got.From.Equal(c.From) || !got.To.Equal(c.To) {
			t.Fatalf("claims changed:\n sent %+v\n got  %+v", c, got)
		}
		if c.From.IsZero() && !got.From.IsZero() {
			t.Fatal("From set on a non-playback token")
		}
		if _, err := s.VerifyFor(tok, c.CameraID, c.Perm, t0); err != nil {
			t.Errorf("VerifyFor own camera: %v", err)
		}
		if _, err := s.VerifyFor(tok, "other", c.Perm, t0); !errors.Is(err, ErrTokenInvalid) {
			t.Errorf("VerifyFor other camera = %v; want ErrTokenInvalid", err)
		}
		if _, err := s.VerifyFor(tok, c.CameraID, "manage", t0); !errors.Is(err, ErrTokenInvalid) {
			t.Errorf("VerifyFor other permission = %v; want ErrTokenInvalid", err)
		}
	}
}

func TestSignRejectsBadClaims(t *testing.T) {
	s, _ := NewSigner(testKey)
	exp := t0.Add(time.Minute)
	long := strings.Repeat("x", maxClaimField+1)
	for name, c := range map[string]MediaClaims{
		"no camera":      {Perm: "live", Expires: exp},
		"no perm":        {CameraID: "c", Expires: exp},
		"no expiry":      {CameraID: "c", Perm: "live"},
		"only from":      {CameraID: "c", Perm: "live", Expires: exp, From: t0},
		"only to":        {CameraID: "c", Perm: "live", Expires: exp, To: t0},
		"reversed range": {CameraID: "c", Perm: "playback", Expires: exp, From: t0, To: t0.Add(-1)},
		"long camera":    {CameraID: long, Perm: "live", Expires: exp},
		"long subject":   {CameraID: "c", Perm: "live", Expires: exp, Subject: long},
		"bad utf8":       {CameraID: "c\xff", Perm: "live", Expires: exp},
		"far future":     {CameraID: "c", Perm: "live", Expires: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"before 1970":    {CameraID: "c", Perm: "live", Expires: time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if tok, err := s.Sign(c); err == nil {
			t.Errorf("%s: Sign accepted, token %q", name, tok)
		}
	}
}

func TestVerifyRejects(t *testing.T) {
	s, _ := NewSigner(testKey)
	other, _ := NewSigner(testKey2)
	c := MediaClaims{CameraID: "cam1", Perm: "live", Expires: t0.Add(time.Minute), Subject: "u1"}
	tok, _ := s.Sign(c)
	foreign, _ := other.Sign(c)
	body, sig, _ := strings.Cut(tok, ".")
	// A payload for another camera re-using the first token's signature.
	forged := base64.RawURLEncoding.EncodeToString([]byte(`{"v":1,"c":"cam2","p":"live","e":`+
		"9999999999000000000"+`}`)) + "." + sig
	flip := []byte(sig)
	flip[3] ^= 1
	for _, tc := range []struct {
		name string
		tok  string
		now  time.Time
		want error
	}{
		{"expired at the instant", tok, c.Expires, ErrTokenExpired},
		{"expired later", tok, c.Expires.Add(time.Hour), ErrTokenExpired},
		{"other key", foreign, t0, ErrTokenInvalid},
		{"forged payload", forged, t0, ErrTokenInvalid},
		{"flipped signature bit", body + "." + string(flip), t0, ErrTokenInvalid},
		{"truncated signature", tok[:len(tok)-2], t0, ErrTokenInvalid},
		{"no signature", body, t0, ErrTokenInvalid},
		{"empty", "", t0, ErrTokenInvalid},
		{"three parts", tok + ".x", t0, ErrTokenInvalid},
		{"padded", tok + "=", t0, ErrTokenInvalid},
		{"huge", strings.Repeat("a", 5000) + "." + sig, t0, ErrTokenInvalid},
	} {
		_, err := s.Verify(tc.tok, tc.now)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: Verify = %v; want %v", tc.name, err, tc.want)
		}
	}
	if _, err := s.Verify(tok, c.Expires.Add(-time.Nanosecond)); err != nil {
		t.Errorf("Verify just before expiry: %v", err)
	}
}

func TestSignerKeyRotation(t *testing.T) {
	old, _ := NewSigner(testKey)
	rotated, _ := NewSigner(testKey2, testKey)
	c := MediaClaims{CameraID: "cam1", Perm: "live", Expires: t0.Add(time.Minute)}
	oldTok, _ := old.Sign(c)
	if _, err := rotated.Verify(oldTok, t0); err != nil {
		t.Fatalf("rotated signer rejects token of previous key: %v", err)
	}
	newTok, _ := rotated.Sign(c)
	if _, err := old.Verify(newTok, t0); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("new token verified with the old key only: %v; want ErrTokenInvalid", err)
	}
	only, _ := NewSigner(testKey2)
	if _, err := only.Verify(newTok, t0); err != nil {
		t.Fatalf("token of the rotated signer is not signed with the current key: %v", err)
	}
}

func TestSignerCopiesKey(t *testing.T) {
	key := bytes.Clone(testKey)
	s, _ := NewSigner(key)
	c := MediaClaims{CameraID: "cam1", Perm: "live", Expires: t0.Add(time.Minute)}
	tok, _ := s.Sign(c)
	key[0] ^= 0xff
	if _, err := s.Verify(tok, t0); err != nil {
		t.Fatalf("changing the caller's key slice changed the signer: %v", err)
	}
}

// FuzzVerifyToken checks that Verify never panics, fails only with the
// documented errors, and accepts nothing but the exact tokens Sign makes.
func FuzzVerifyToken(f *testing.F) {
	s, _ := NewSigner(testKey)
	now := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
	for _, c := range []MediaClaims{
		{CameraID: "cam1", Perm: "live", Expires: now.Add(time.Minute), Subject: "u"},
		{CameraID: "cam2", Perm: "playback", Expires: now.Add(time.Minute), From: now.Add(-time.Hour), To: now},
		{CameraID: "cam3", Perm: "live", Expires: now.Add(-time.Minute)},
	} {
		tok, err := s.Sign(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok)
	}
	f.Add("")
	f.Add(".")
	f.Add("e30.AAAA")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := s.Verify(tok, now)
		if err != nil {
			if !errors.Is(err, ErrTokenInvalid) && !errors.Is(err, ErrTokenExpired) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		re, err := s.Sign(c)
		if err != nil {
			t.Fatalf("verified claims cannot be re-signed: %v", err)
		}
		if re != tok {
			t.Fatalf("accepted a token Sign would not make:\n in  %q\n out %q", tok, re)
		}
	})
}

func BenchmarkVerifyMediaToken(b *testing.B) {
	s, _ := NewSigner(testKey, testKey2)
	tok, err := s.Sign(MediaClaims{CameraID: "0195f0b2-camera", Perm: "live", Expires: t0.Add(time.Minute), Subject: "user-1"})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.Verify(tok, t0); err != nil {
			b.Fatal(err)
		}
	}
}
