package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// sealedPrefix marks a secret sealed by a SecretBox; a stored value without
// it is a legacy plaintext secret.
const sealedPrefix = "enc:v1:"

// ErrSealed means a sealed secret could not be opened: no key, the wrong
// key, or a value that was tampered with or moved to another record.
var ErrSealed = errors.New("auth: sealed secret cannot be opened")

// SecretBox encrypts small secrets kept in the database (TOTP secrets)
// with AES-256-GCM, so that a copy of the database alone does not give
// them away. Each sealed value is bound to a context (the user id), so it
// cannot be moved to another row. It is safe for concurrent use.
type SecretBox struct{ aead cipher.AEAD }

// NewSecretBox derives the box's AES key from key (at least MinSignerKey
// bytes: the configured TOTP key, or the media key) with HMAC-SHA256 under
// a label of its own, so the media key itself never encrypts anything.
func NewSecretBox(key []byte) (*SecretBox, error) {
	if len(key) < MinSignerKey {
		return nil, fmt.Errorf("auth: secret box key has %d bytes, want at least %d", len(key), MinSignerKey)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("camcloud secret box key v1"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("auth: secret box: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("auth: secret box: %w", err)
	}
	return &SecretBox{aead: aead}, nil
}

// Sealed reports whether stored is a sealed value (else legacy plaintext).
func Sealed(stored string) bool { return strings.HasPrefix(stored, sealedPrefix) }

// Seal encrypts plain for context. A nil box returns plain unchanged (a
// deployment without a key, e.g. a unit test; see Open).
func (b *SecretBox) Seal(plain, context string) (string, error) {
	if b == nil {
		return plain, nil
	}
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("auth: secret box nonce: %w", err)
	}
	ct := b.aead.Seal(nonce, nonce, []byte(plain), []byte(context))
	return sealedPrefix + base64.RawURLEncoding.EncodeToString(ct), nil
}

// Open returns the secret stored for context: a sealed value decrypted, or
// a legacy plaintext value as it is. Errors wrap ErrSealed.
func (b *SecretBox) Open(stored, context string) (string, error) {
	enc, ok := strings.CutPrefix(stored, sealedPrefix)
	if !ok {
		return stored, nil
	}
	if b == nil {
		return "", fmt.Errorf("%w: no key configured", ErrSealed)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(enc)
	if err != nil || len(raw) < b.aead.NonceSize()+b.aead.Overhead() {
		return "", fmt.Errorf("%w: malformed", ErrSealed)
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(context))
	if err != nil {
		return "", fmt.Errorf("%w: wrong key or tampered", ErrSealed)
	}
	return string(plain), nil
}
