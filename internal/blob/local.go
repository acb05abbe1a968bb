package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Local keeps objects as files under one directory: key "a/b/c" is the file
// DIR/a/b/c. Writes go to a temporary file in the same directory, are synced
// and renamed into place, so readers and crashes never see half an object.
// A key cannot be both an object and a "directory" of other keys (S3 allows
// "a" and "a/b" together; Local refuses the second Put with an error).
type Local struct {
	root string
}

var _ Store = (*Local)(nil)

// NewLocal opens (creating if needed) the directory dir as a Store.
func NewLocal(dir string) (*Local, error) {
	if dir == "" {
		return nil, errors.New("blob: local store directory is empty")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("blob: local store directory %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return nil, fmt.Errorf("blob: create local store directory: %w", err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("blob: local store directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("blob: local store path %q is not a directory", abs)
	}
	return &Local{root: abs}, nil
}

// Dir returns the absolute directory that holds the objects.
func (l *Local) Dir() string { return l.root }

// path maps a validated key to its file.
func (l *Local) path(key string) string {
	return filepath.Join(l.root, filepath.FromSlash(key))
}

// Put writes the object atomically: temp file, fsync, rename, fsync of the
// directory. Exactly size bytes are read from r; fewer is an error and
// leaves any previous object untouched.
func (l *Local) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if size < 0 {
		return fmt.Errorf("blob: put %q: negative size %d", key, size)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	dst := l.path(key)
	dir := filepath.Dir(dst)
	f, err := l.createTemp(dir)
	if err != nil {
		return fmt.Errorf("blob: put %q: %w", key, err)
	}
	tmp := f.Name()
	if err := writeSynced(f, ctxReader{ctx, r}, size); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("blob: put %q: %w", key, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("blob: put %q: %w", key, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("blob: put %q: sync directory: %w", key, err)
	}
	return nil
}

// PutFile stores the file at path under key, as Put would with its
// content. When the file is exactly size bytes long and on the store's
// file system, it is hard-linked into place (then the directory synced):
// no byte is copied, which for a recorder's minute-long segments saves
// reading and writing every recorded byte a second time. The caller must
// have synced the file and must not modify it afterwards (it may remove
// its own name for it). Otherwise the file is copied.
func (l *Local) PutFile(ctx context.Context, key, path string, size int64) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if fi, err := os.Stat(path); err != nil {
		return fmt.Errorf("blob: put %q from file: %w", key, err)
	} else if fi.Size() == size && fi.Mode().IsRegular() {
		if err := l.link(key, path); err == nil {
			return nil
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("blob: put %q from file: %w", key, err)
	}
	defer f.Close()
	return l.Put(ctx, key, f, size)
}

// link makes path the object key: a hard link under a temporary name,
// renamed over any previous object, then the directory synced.
func (l *Local) link(key, path string) error {
	dst := l.path(key)
	dir := filepath.Dir(dst)
	f, err := l.createTemp(dir) // reserves a temporary name
	if err != nil {
		return err
	}
	tmp := f.Name()
	f.Close()
	if err := os.Remove(tmp); err != nil {
		return err
	}
	if err := os.Link(path, tmp); err != nil {
		return err // another file system, or links not supported: copy
	}
	if err := os.Rename(tmp, dst); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

// createTemp makes the parent directories and a temp file in dir. A Delete
// may prune a just-made empty directory in between, so that is retried.
func (l *Local) createTemp(dir string) (*os.File, error) {
	var err error
	for range 5 {
		if err = os.MkdirAll(dir, 0o750); err != nil {
			if errors.Is(err, syscall.ENOTDIR) {
				return nil, fmt.Errorf("a parent of the key is an object: %w", err)
			}
			return nil, err
		}
		var f *os.File
		f, err = os.CreateTemp(dir, tmpPrefix+"*")
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return nil, err
}

// writeSynced copies exactly size bytes into f, syncs and closes it.
func writeSynced(f *os.File, r io.Reader, size int64) error {
	n, err := io.CopyN(f, r, size)
	if err != nil {
		_ = f.Close()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("short body: got %d of %d bytes", n, size)
		}
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Get opens the whole object.
func (l *Local) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	return l.GetRange(ctx, key, 0, -1)
}

// GetRange opens length bytes from offset (length < 0: to the end). A range
// running past the end is cut at the end; one starting past it is empty.
func (l *Local) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("blob: get %q: negative offset %d", key, offset)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(l.path(key))
	if err != nil {
		return nil, l.mapErr("get", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("blob: get %q: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		_ = f.Close()
		return nil, fmt.Errorf("blob: get %q: %w", key, ErrNotFound)
	}
	size := fi.Size()
	offset = min(offset, size)
	n := size - offset
	if length >= 0 {
		n = min(n, length)
	}
	return readCloser{io.NewSectionReader(f, offset, n), f}, nil
}

// Stat returns the object's size, or ErrNotFound.
func (l *Local) Stat(ctx context.Context, key string) (int64, error) {
	if err := ValidateKey(key); err != nil {
		return 0, err
	}
	fi, err := os.Stat(l.path(key))
	if err != nil {
		return 0, l.mapErr("stat", key, err)
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("blob: stat %q: %w", key, ErrNotFound)
	}
	return fi.Size(), nil
}

// mapErr turns "no such file" (or a parent that is a file) into ErrNotFound.
func (l *Local) mapErr(op, key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("blob: %s %q: %w", op, key, ErrNotFound)
	}
	return fmt.Errorf("blob: %s %q: %w", op, key, err)
}

// Delete removes the objects and then any parent directories left empty
// (never the store's own directory). Missing keys are not an error; an
// invalid key fails the call before anything is removed.
func (l *Local) Delete(ctx context.Context, keys ...string) error {
	for _, k := range keys {
		if err := ValidateKey(k); err != nil {
			return err
		}
	}
	var errs []error
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := l.deleteOne(k); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// deleteOne removes one object file and prunes empty parents.
func (l *Local) deleteOne(key string) error {
	p := l.path(key)
	fi, err := os.Lstat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil
		}
		return fmt.Errorf("blob: delete %q: %w", key, err)
	}
	if fi.IsDir() {
		return nil // a "directory" of other keys, not an object
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob: delete %q: %w", key, err)
	}
	for d := filepath.Dir(p); d != l.root && len(d) > len(l.root); d = filepath.Dir(d) {
		if os.Remove(d) != nil {
			break // not empty (or gone): stop pruning
		}
	}
	return nil
}

// Ping writes and removes a small probe file, proving the directory is
// there and writable.
func (l *Local) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := os.CreateTemp(l.root, tmpPrefix+"ping-*")
	if err != nil {
		return fmt.Errorf("blob: local ping: %w", err)
	}
	name := f.Name()
	_, werr := f.Write([]byte("ping"))
	cerr := f.Close()
	rerr := os.Remove(name)
	if err := errors.Join(werr, cerr, rerr); err != nil {
		return fmt.Errorf("blob: local ping: %w", err)
	}
	return nil
}

// FreeBytes returns the space left for an unprivileged writer on the file
// system that holds the store, so retention can delete early to protect it.
func (l *Local) FreeBytes() (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(l.root, &st); err != nil {
		return 0, fmt.Errorf("blob: statfs %q: %w", l.root, err)
	}
	return st.Bavail * uint64(st.Bsize), nil
}
