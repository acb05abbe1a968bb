package names

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	four := "\U0001F4F7" // a camera emoji: 4 bytes of UTF-8
	for _, c := range []struct {
		name, in, want string
		ok             bool
	}{
		{"plain", "  Front door ", "Front door", true},
		{"accents and emoji", "Entrée " + four, "Entrée " + four, true},
		{"joined emoji", "\U0001F468\u200D\U0001F469", "\U0001F468\u200D\U0001F469", true},
		{"100 characters", strings.Repeat("a", 100), strings.Repeat("a", 100), true},
		{"80 four-byte characters fill 320 bytes", strings.Repeat(four, 80), strings.Repeat(four, 80), true},
		{"empty", "   ", "", false},
		{"101 characters", strings.Repeat("a", 101), "", false},
		{"81 four-byte characters", strings.Repeat(four, 81), "", false},
		{"100 four-byte characters", strings.Repeat(four, 100), "", false},
		{"NUL", "a\x00b", "", false},
		{"newline", "a\nb", "", false},
		{"DEL", "a\x7fb", "", false},
		{"C1 control", "a\u0085b", "", false},
		{"right-to-left override", "abc\u202Etxt.exe", "", false},
		{"right-to-left mark", "a\u200Fb", "", false},
		{"isolate", "a\u2066b\u2069", "", false},
		{"arabic letter mark", "a\u061Cb", "", false},
		{"line separator", "a\u2028b", "", false},
		{"noncharacter", "a\uFFFEb", "", false},
		{"broken UTF-8", "a\xffb", "", false},
	} {
		got, err := Check("name", c.in, 100)
		var ne *Error
		if c.ok != (err == nil) || got != c.want || (err != nil && (!errors.As(err, &ne) || !strings.HasPrefix(err.Error(), "name "))) {
			t.Errorf("%s: Check(%q) = %q, %v; want %q, ok %v", c.name, c.in, got, err, c.want, c.ok)
		}
	}
}
