package blob

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxKeyLen bounds keys and prefixes; it is S3's own limit, so a key accepted
// by one backend is accepted by the other.
const MaxKeyLen = 1024

// tmpPrefix starts the names of files that Local writes before renaming them
// into place (and of its Ping probes). Such names are never objects: List
// skips them and keys may not use them.
const tmpPrefix = ".camcloud-tmp-"

// ValidateKey reports why key cannot name an object, or nil. Keys are
// relative, slash-separated paths without empty, "." or ".." elements,
// backslashes or control characters, at most MaxKeyLen bytes of UTF-8.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("blob: invalid key: empty")
	}
	if err := checkChars(key); err != nil {
		return err
	}
	for _, el := range strings.Split(key, "/") {
		switch {
		case el == "":
			return fmt.Errorf("blob: invalid key %q: empty path element (leading, trailing or double slash)", key)
		case el == ".":
			return fmt.Errorf("blob: invalid key %q: \".\" path element", key)
		case strings.HasPrefix(el, tmpPrefix):
			return fmt.Errorf("blob: invalid key %q: element prefix %q is reserved", key, tmpPrefix)
		}
	}
	return nil
}

// validatePrefix checks a List prefix: "" (everything) or the start of a
// key, so a trailing slash and a partial last element are allowed.
func validatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	return checkChars(prefix)
}

// checkChars holds the rules shared by keys and prefixes.
func checkChars(s string) error {
	switch {
	case len(s) > MaxKeyLen:
		return fmt.Errorf("blob: invalid key: %d bytes, longer than %d", len(s), MaxKeyLen)
	case !utf8.ValidString(s):
		return fmt.Errorf("blob: invalid key %q: not UTF-8", s)
	case strings.HasPrefix(s, "/"):
		return fmt.Errorf("blob: invalid key %q: absolute path", s)
	case strings.Contains(s, ".."):
		return fmt.Errorf("blob: invalid key %q: contains \"..\"", s)
	case strings.ContainsRune(s, '\\'):
		return fmt.Errorf("blob: invalid key %q: contains a backslash", s)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("blob: invalid key %q: contains a control character (NUL included)", s)
		}
	}
	return nil
}
