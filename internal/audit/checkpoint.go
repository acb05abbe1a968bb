package audit

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/blob"
)

// CheckpointPrefix is where checkpoints are kept in the object store: one
// object per checkpoint, named so that the newest lists last.
const CheckpointPrefix = "audit/checkpoints/"

// maxCheckpoint bounds the size of a checkpoint object read back.
const maxCheckpoint = 4 << 10

// Checkpoint pins the head of the log at a moment: how many entries it
// had, the last one's hash, and from which entry on they are keyed, signed
// with the log's key. A later log must still contain that entry with that
// hash, so cutting entries off the end or rewriting the log as a whole is
// seen.
type Checkpoint struct {
	Seq       int64     `json:"seq"`
	Head      string    `json:"head"`
	KeyedFrom int64     `json:"keyed_from"`
	Time      time.Time `json:"time"`
	MAC       string    `json:"mac"`
}

// ErrBadCheckpoint is a checkpoint whose signature does not hold.
var ErrBadCheckpoint = errors.New("audit: checkpoint signature does not match (forged, or another key)")

// mac is the HMAC of cp's fields under the checkpoint key.
func (cp Checkpoint) mac(k Key) string {
	m := hmac.New(sha256.New, k.checkpoint)
	var n [8]byte
	put := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		m.Write(n[:])
		m.Write([]byte(s))
	}
	put("camcloud-audit-checkpoint-v1")
	put(fmt.Sprint(cp.Seq))
	put(cp.Head)
	put(fmt.Sprint(cp.KeyedFrom))
	put(cp.Time.UTC().Format(time.RFC3339Nano))
	return hex.EncodeToString(m.Sum(nil))
}

// Sign returns cp with its MAC set under k.
func (cp Checkpoint) Sign(k Key) Checkpoint {
	cp.Time = cp.Time.UTC()
	cp.MAC = cp.mac(k)
	return cp
}

// Check reports ErrBadCheckpoint unless cp was signed with k.
func (cp Checkpoint) Check(k Key) error {
	if !k.Valid() || !hmac.Equal([]byte(cp.MAC), []byte(cp.mac(k))) {
		return ErrBadCheckpoint
	}
	return nil
}

// objectKey is where cp is stored: by Seq, then time, zero-padded so that
// lexical order is their order.
func (cp Checkpoint) objectKey() string {
	return fmt.Sprintf("%s%020d-%020d.json", CheckpointPrefix, cp.Seq, cp.Time.UnixNano())
}

// PutCheckpoint stores a signed checkpoint in bs.
func PutCheckpoint(ctx context.Context, bs blob.Store, cp Checkpoint) error {
	b, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	return bs.Put(ctx, cp.objectKey(), bytes.NewReader(b), int64(len(b)))
}

// LatestCheckpoint returns the newest checkpoint in bs (highest Seq, then
// time), nil when there is none. A newest checkpoint that does not read
// or whose signature does not hold under k is an error: it is what someone
// who rewrote the log would leave.
func LatestCheckpoint(ctx context.Context, bs blob.Store, k Key) (*Checkpoint, error) {
	var last string
	err := bs.List(ctx, CheckpointPrefix, func(key string, _ int64) error {
		if strings.HasSuffix(key, ".json") {
			last = key
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("audit: listing checkpoints: %w", err)
	}
	if last == "" {
		return nil, nil
	}
	rc, err := bs.Get(ctx, last)
	if err != nil {
		return nil, fmt.Errorf("audit: reading checkpoint %s: %w", last, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxCheckpoint))
	if err != nil {
		return nil, fmt.Errorf("audit: reading checkpoint %s: %w", last, err)
	}
	var cp Checkpoint
	if err := json.Unmarshal(b, &cp); err != nil {
		return nil, fmt.Errorf("audit: checkpoint %s: %w", last, err)
	}
	if err := cp.Check(k); err != nil {
		return nil, fmt.Errorf("%w: %s", err, last)
	}
	if cp.objectKey() != last {
		return nil, fmt.Errorf("%w: %s names another checkpoint", ErrBadCheckpoint, last)
	}
	return &cp, nil
}
