package audit

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// KeyFile is the name of the generated audit key in the data directory.
const KeyFile = "audit.key"

// minKey is the shortest audit key accepted.
const minKey = 32

// Key is the secret that keys the audit chain and signs its checkpoints.
// It must not be stored in the database the log lives in: whoever can
// write there could otherwise rewrite history and recompute the chain.
// The zero Key is "no key": entries are chained unkeyed, as before.
type Key struct {
	chain, checkpoint []byte
}

// NewKey derives the chain and checkpoint keys from secret (at least 32
// bytes), each for its own use.
func NewKey(secret []byte) (Key, error) {
	if len(secret) < minKey {
		return Key{}, fmt.Errorf("audit key must be at least %d bytes", minKey)
	}
	sub := func(label string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	return Key{chain: sub("camcloud audit chain v2"), checkpoint: sub("camcloud audit checkpoint v1")}, nil
}

// Valid says whether k is a key (not the zero Key).
func (k Key) Valid() bool { return len(k.chain) > 0 }

// KeySource says where ResolveKey found the key, for logs and the CLI.
type KeySource string

// Where the audit key comes from, in order of precedence.
const (
	KeyConfigured KeySource = "audit_key"
	KeyMedia      KeySource = "derived from media_key"
	KeyGenerated  KeySource = "data dir " + KeyFile
	KeyNone       KeySource = "none"
)

// ResolveKey returns the audit key: the configured audit key; else one
// derived from the configured media key (split deployments share it
// already); else the file KeyFile in dataDir, generated (0600) when create
// is set and it does not exist. Without any of them it returns the zero
// Key and KeyNone.
func ResolveKey(configured, mediaKey, dataDir string, create bool) (Key, KeySource, error) {
	switch {
	case configured != "":
		k, err := NewKey([]byte(configured))
		return k, KeyConfigured, err
	case mediaKey != "":
		m := hmac.New(sha256.New, []byte(mediaKey))
		m.Write([]byte("camcloud audit key from media key v1"))
		k, err := NewKey(m.Sum(nil))
		return k, KeyMedia, err
	}
	p := filepath.Join(dataDir, KeyFile)
	b, err := os.ReadFile(p)
	switch {
	case err == nil:
		k, err := NewKey(b)
		if err != nil {
			return Key{}, KeyGenerated, fmt.Errorf("%s: %w", p, err)
		}
		return k, KeyGenerated, nil
	case !errors.Is(err, fs.ErrNotExist):
		return Key{}, KeyGenerated, err
	case !create:
		return Key{}, KeyNone, nil
	}
	var r [32]byte
	if _, err := rand.Read(r[:]); err != nil {
		return Key{}, KeyGenerated, err
	}
	secret := []byte(hex.EncodeToString(r[:]))
	// O_EXCL: two processes on one data dir must not each write their own.
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return ResolveKey("", "", dataDir, false)
	}
	if err != nil {
		return Key{}, KeyGenerated, err
	}
	if _, err := f.Write(secret); err != nil {
		_ = f.Close()
		return Key{}, KeyGenerated, err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return Key{}, KeyGenerated, err
	}
	if err := f.Close(); err != nil {
		return Key{}, KeyGenerated, err
	}
	k, err := NewKey(secret)
	return k, KeyGenerated, err
}
