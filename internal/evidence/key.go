package evidence

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/store"
)

// keyRow is the id of the deployment's one signing key in evidence_keys.
const keyRow = "evidence"

// Key is the deployment's signing key.
type Key struct {
	priv ed25519.PrivateKey
	// Public is the public half; ID its KeyID.
	Public ed25519.PublicKey
	ID     string
}

// Private is the private half, for Write.
func (k *Key) Private() ed25519.PrivateKey { return k.priv }

// Box returns the SecretBox that seals the private key: its key is
// derived from secret (the media key) under a label of its own.
func Box(secret []byte) (*auth.SecretBox, error) {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("camcloud evidence key v1"))
	return auth.NewSecretBox(m.Sum(nil))
}

// LoadKey returns the deployment's signing key, made and stored (the
// private half sealed with box) by the first process that asks; a
// racing process's key loses to the one stored first.
func LoadKey(ctx context.Context, dir store.ExportStore, box *auth.SecretBox, now time.Time) (*Key, error) {
	row, err := dir.EvidenceKey(ctx, keyRow)
	if errors.Is(err, store.ErrNotFound) {
		pub, priv, gerr := ed25519.GenerateKey(rand.Reader)
		if gerr != nil {
			return nil, gerr
		}
		sealed, serr := box.Seal(base64.StdEncoding.EncodeToString(priv.Seed()), "evidence-key:"+keyRow)
		if serr != nil {
			return nil, serr
		}
		row, err = dir.AddEvidenceKey(ctx, store.EvidenceKey{ID: keyRow, PublicKey: base64.StdEncoding.EncodeToString(pub),
			PrivateSealed: sealed, CreatedAt: now})
	}
	if err != nil {
		return nil, fmt.Errorf("evidence key: %w", err)
	}
	if !auth.Sealed(row.PrivateSealed) {
		return nil, fmt.Errorf("evidence key: the stored private key is not sealed")
	}
	seedText, err := box.Open(row.PrivateSealed, "evidence-key:"+keyRow)
	if err != nil {
		return nil, fmt.Errorf("evidence key: %w (was the media key changed?)", err)
	}
	seed, err := base64.StdEncoding.DecodeString(seedText)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("evidence key: the stored private key is malformed")
	}
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	if base64.StdEncoding.EncodeToString(pub) != row.PublicKey {
		return nil, fmt.Errorf("evidence key: the stored halves do not match")
	}
	return &Key{priv: priv, Public: pub, ID: KeyID(pub)}, nil
}

// StoredPublicKey returns the public key stored in the directory, without
// opening the private half (camcloud evidence public-key).
func StoredPublicKey(ctx context.Context, dir store.ExportStore) (ed25519.PublicKey, error) {
	row, err := dir.EvidenceKey(ctx, keyRow)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("no evidence key yet: the first api node makes it when it starts")
	}
	if err != nil {
		return nil, err
	}
	return ParsePublicKey([]byte(row.PublicKey))
}

// PublicPEM is pub as a PEM "PUBLIC KEY" block (PKIX, as openssl reads).
func PublicPEM(pub ed25519.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(err) // an ed25519.PublicKey always marshals
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// ParsePublicKey reads an Ed25519 public key as PEM (PUBLIC KEY) or as
// the base64 of its 32 bytes.
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	if blk, _ := pem.Decode(b); blk != nil {
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("public key: %w", err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("public key: not an Ed25519 key")
		}
		return pub, nil
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("public key: want PEM or the base64 of %d bytes", ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(raw), nil
}
