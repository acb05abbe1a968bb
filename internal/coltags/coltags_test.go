package coltags

import (
	"strings"
	"testing"
)

func TestCheckGrant(t *testing.T) {
	if err := CheckGrant([]string{Usage, ID, Camera}); err != nil {
		t.Fatalf("a grant of known tags: %v", err)
	}
	for _, c := range []struct {
		tags []string
		want string
	}{
		{[]string{Usage, Secret}, `"secret" cannot be granted`},
		{[]string{"passwords"}, `unknown tag "passwords"`},
		{[]string{""}, `unknown tag ""`},
		{[]string{Usage, Usage}, "granted twice"},
	} {
		err := CheckGrant(c.tags)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckGrant(%q) = %v, want an error saying %q", c.tags, err, c.want)
		}
	}
}
