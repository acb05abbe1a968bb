package blob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// List calls fn with every key under prefix in byte-wise lexical order, the
// order S3 lists in. Directories are walked as if their names ended in "/",
// so "a.txt" comes before "a/b" as it does in S3. Temp files are skipped.
// An error from fn stops the walk and is returned.
func (l *Local) List(ctx context.Context, prefix string, fn func(key string, size int64) error) error {
	if err := validatePrefix(prefix); err != nil {
		return err
	}
	start := ""
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = prefix[:i]
	}
	return l.walk(ctx, start, prefix, fn)
}

// entry is one name in a directory, with the key it stands for.
type entry struct {
	de   fs.DirEntry
	key  string
	sort string
}

// walk lists the directory that holds keys starting with rel + "/".
func (l *Local) walk(ctx context.Context, rel, prefix string, fn func(string, int64) error) error {
	des, err := os.ReadDir(filepath.Join(l.root, filepath.FromSlash(rel)))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil // removed while walking, or never there
		}
		return fmt.Errorf("blob: list %q: %w", prefix, err)
	}
	entries := make([]entry, 0, len(des))
	for _, de := range des {
		if strings.HasPrefix(de.Name(), tmpPrefix) {
			continue
		}
		key := de.Name()
		if rel != "" {
			key = rel + "/" + key
		}
		e := entry{de: de, key: key, sort: key}
		if de.IsDir() {
			e.sort = key + "/"
		}
		entries = append(entries, e)
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.sort, b.sort) })
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		switch {
		case e.de.IsDir():
			if !strings.HasPrefix(e.sort, prefix) && !strings.HasPrefix(prefix, e.sort) {
				continue
			}
			if err := l.walk(ctx, e.key, prefix, fn); err != nil {
				return err
			}
		case e.de.Type().IsRegular():
			if !strings.HasPrefix(e.key, prefix) {
				continue
			}
			info, err := e.de.Info()
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					continue // deleted while listing
				}
				return fmt.Errorf("blob: list %q: %w", prefix, err)
			}
			if err := fn(e.key, info.Size()); err != nil {
				return err
			}
		}
	}
	return nil
}
