// Package blob is the object store: a local directory for one-machine
// installs and any S3-compatible server for the rest, behind one interface.
package blob

import (
	"context"
	"errors"
	"io"
)

// ErrNotFound is returned when an object does not exist.
var ErrNotFound = errors.New("blob: not found")

// Store keeps objects by key. Keys are slash-separated, e.g.
// "cam/<id>/2026/11/25/13/<start>.m4s". Writes are atomic: a reader sees the
// whole object or nothing.
type Store interface {
	// Put stores size bytes read from r under key, replacing any object there.
	Put(ctx context.Context, key string, r io.Reader, size int64) error
	// Get opens the object; the caller closes it.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// GetRange opens length bytes from offset (length < 0: to the end).
	GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
	// Stat returns the object's size, or ErrNotFound.
	Stat(ctx context.Context, key string) (int64, error)
	// Delete removes the objects; missing keys are not an error.
	Delete(ctx context.Context, keys ...string) error
	// List calls fn with every key under prefix, in lexical order.
	List(ctx context.Context, prefix string, fn func(key string, size int64) error) error
	// Ping checks the store is reachable and writable, for readiness.
	Ping(ctx context.Context) error
}

// FilePutter is a Store that can take a whole local file as an object more
// cheaply than Put reading it (Local links it into place).
type FilePutter interface {
	// PutFile stores the size bytes of the file at path under key. The
	// file must be synced and must not change afterwards.
	PutFile(ctx context.Context, key, path string, size int64) error
}
