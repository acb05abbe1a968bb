package auth

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

func TestHashAndVerifyPassword(t *testing.T) {
	enc, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("unexpected encoding %q", enc)
	}
	again, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if again == enc {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{
		{"correct horse battery", true},
		{"correct horse batterY", false},
		{"correct horse battery ", false},
		{"", false},
		{strings.Repeat("x", MaxPasswordBytes+1), false},
	} {
		got, err := VerifyPassword(enc, tc.pw)
		if err != nil || got != tc.want {
			t.Errorf("VerifyPassword(%.20q) = %v, %v; want %v, nil", tc.pw, got, err, tc.want)
		}
	}
	if NeedsRehash(enc) {
		t.Error("fresh hash reported as needing a rehash")
	}
}

func TestVerifyPasswordOtherParameters(t *testing.T) {
	// A hash made with other (cheaper) parameters still verifies, and is
	// reported as needing a rehash.
	p := argonParams{memory: 64, time: 1, threads: 2, salt: []byte("0123456789abcdef")}
	p.key = argon2.IDKey([]byte("hunter2hunter2"), p.salt, p.time, p.memory, p.threads, argonKeyLen)
	enc := encodeHash(p)
	ok, err := VerifyPassword(enc, "hunter2hunter2")
	if err != nil || !ok {
		t.Fatalf("VerifyPassword = %v, %v; want true", ok, err)
	}
	if !NeedsRehash(enc) {
		t.Error("NeedsRehash = false for non-default parameters")
	}
}

func TestDummyVerifyPassword(t *testing.T) {
	// Only its cost matters (see BenchmarkDummyVerifyPassword); it must
	// accept any input without failing.
	DummyVerifyPassword("")
	DummyVerifyPassword(strings.Repeat("x", 10000))
}

func TestHashPasswordTooLong(t *testing.T) {
	if _, err := HashPassword(strings.Repeat("a", MaxPasswordBytes+1)); err == nil {
		t.Fatal("HashPassword accepted an over-long password")
	}
}

func TestVerifyPasswordMalformed(t *testing.T) {
	good := "$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$" + strings.Repeat("A", 43)
	if _, err := decodeHash(good); err != nil {
		t.Fatalf("baseline encoding rejected: %v", err)
	}
	for _, tc := range []struct{ name, enc string }{
		{"empty", ""},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuv"},
		{"argon2i", strings.Replace(good, "argon2id", "argon2i", 1)},
		{"old version", strings.Replace(good, "v=19", "v=16", 1)},
		{"missing field", "$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg"},
		{"extra field", good + "$x"},
		{"no leading dollar", good[1:]},
		{"huge memory", strings.Replace(good, "m=19456", "m=4194304", 1)},
		{"memory overflow", strings.Replace(good, "m=19456", "m=99999999999999999999", 1)},
		{"zero time", strings.Replace(good, "t=2", "t=0", 1)},
		{"many passes", strings.Replace(good, "t=2", "t=1000", 1)},
		{"zero threads", strings.Replace(good, "p=1", "p=0", 1)},
		{"many threads", strings.Replace(good, "p=1", "p=255", 1)},
		{"memory below 8p", strings.Replace(strings.Replace(good, "m=19456", "m=8", 1), "p=1", "p=2", 1)},
		{"negative", strings.Replace(good, "t=2", "t=-2", 1)},
		{"plus sign", strings.Replace(good, "t=2", "t=+2", 1)},
		{"leading zero", strings.Replace(good, "t=2", "t=02", 1)},
		{"params reordered", strings.Replace(good, "m=19456,t=2", "t=2,m=19456", 1)},
		{"padded salt", strings.Replace(good, "RlZg$", "RlZg==$", 1)},
		{"bad base64", strings.Replace(good, "MDEy", "M!Ey", 1)},
		{"short salt", strings.Replace(good, "MDEyMzQ1Njc4OWFiY2RlZg", "MDEy", 1)},
		{"short hash", "$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$AAAA"},
		{"huge", good + strings.Repeat("A", 1000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := VerifyPassword(tc.enc, "whatever password")
			if ok || !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("VerifyPassword = %v, %v; want false, ErrMalformedHash", ok, err)
			}
			if !NeedsRehash(tc.enc) {
				t.Error("NeedsRehash = false for a malformed hash")
			}
		})
	}
}

func TestValidatePassword(t *testing.T) {
	for _, tc := range []struct {
		pw string
		ok bool
	}{
		{"", false},
		{"short", false},
		{"123456789", false},
		{"1234567890", true},
		{"ääääääääää", true}, // 10 characters, 20 bytes
		{"äääääääää", false}, // 9 characters, 18 bytes
		{"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6", false}, // not UTF-8
		{strings.Repeat("a", MaxPasswordBytes), true},
		{strings.Repeat("a", MaxPasswordBytes+1), false},
	} {
		err := ValidatePassword(tc.pw)
		if (err == nil) != tc.ok {
			t.Errorf("ValidatePassword(%.20q) = %v; want ok=%v", tc.pw, err, tc.ok)
		}
	}
}

// FuzzDecodeHash checks that the PHC decoder never panics, only accepts
// parameters inside its bounds, and that what it accepts re-encodes to the
// exact same string (the encoding is canonical).
func FuzzDecodeHash(f *testing.F) {
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$" + strings.Repeat("A", 43))
	f.Add("$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
	f.Add("$argon2id$v=19$m=1,t=1,p=1$$")
	f.Add("$$$$$")
	f.Fuzz(func(t *testing.T, enc string) {
		p, err := decodeHash(enc)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("error %v does not wrap ErrMalformedHash", err)
			}
			return
		}
		if p.memory > maxMemoryKiB || p.time > maxTime || p.threads > maxThreads || p.threads == 0 ||
			len(p.salt) < minSaltLen || len(p.key) < minKeyLen || len(p.key) > maxKeyLen {
			t.Fatalf("accepted out-of-bounds parameters %+v", p)
		}
		if re := encodeHash(p); re != enc {
			t.Fatalf("re-encoding differs:\n in  %q\n out %q", enc, re)
		}
	})
}

func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		if _, err := HashPassword("correct horse battery"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDummyVerifyPassword should cost about as much as
// BenchmarkVerifyPassword: that is its purpose.
func BenchmarkDummyVerifyPassword(b *testing.B) {
	for b.Loop() {
		DummyVerifyPassword("correct horse battery")
	}
}

func BenchmarkVerifyPassword(b *testing.B) {
	enc, err := HashPassword("correct horse battery")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, err := VerifyPassword(enc, "wrong horse battery"); ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
