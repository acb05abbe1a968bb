// Package names checks the names people give things (cameras,
// organisations): trimmed, printable text bounded both in characters, as
// users count them, and in bytes, as the directory's columns hold them, so
// that a name is stored whole and shows as typed. Control characters (NUL,
// newlines...) and bidirectional formatting characters, which can make a
// name display as another, are refused.
package names

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxBytes is the size of the directory's name columns (the store's short
// indexed text, VARCHAR(320) on MySQL): no name may be longer in UTF-8.
const MaxBytes = 320

// Error is why a name was refused; its message names the field.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// Check returns name with surrounding space trimmed, or an *Error when it
// is empty, longer than maxRunes characters or MaxBytes bytes, not UTF-8,
// or holds a character Printable refuses. field names the field in the
// message ("name").
func Check(field, name string, maxRunes int) (string, error) {
	n := strings.TrimSpace(name)
	switch {
	case !utf8.ValidString(n):
		return "", &Error{fmt.Sprintf("%s must be UTF-8 text", field)}
	case n == "" || utf8.RuneCountInString(n) > maxRunes:
		return "", &Error{fmt.Sprintf("%s must be 1 to %d characters", field, maxRunes)}
	case len(n) > MaxBytes:
		return "", &Error{fmt.Sprintf("%s is %d bytes of UTF-8, more than the %d that fit: use fewer or simpler characters", field, len(n), MaxBytes)}
	}
	for i, r := range []rune(n) {
		if !Printable(r) {
			return "", &Error{fmt.Sprintf("%s must not contain control or bidirectional formatting characters (U+%04X at character %d)", field, r, i+1)}
		}
	}
	return n, nil
}

// Printable reports whether r may appear in a name: not a control
// character (C0, DEL, C1), not a bidirectional control (LRM, RLM, ALM,
// embeddings, overrides, isolates), not a line or paragraph separator,
// not a noncharacter, and not U+FFFD (what broken UTF-8 decodes to).
func Printable(r rune) bool {
	switch {
	case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r),
		unicode.In(r, unicode.Zl, unicode.Zp),
		unicode.Is(unicode.Noncharacter_Code_Point, r), r == utf8.RuneError:
		return false
	}
	return true
}
