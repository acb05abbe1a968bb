package main

import (
	"testing"

	camcloud "github.com/camcloud/camcloud"
	"github.com/camcloud/camcloud/internal/sample"
)

// TestSimScenes: every --scene name is a built-in sample that loads, and
// an unknown one is refused before anything runs.
func TestSimScenes(t *testing.T) {
	for _, name := range []string{"pattern", "moving"} {
		b, ok := camcloud.Scene(name)
		if !ok {
			t.Fatalf("scene %q is not built in", name)
		}
		if _, err := sample.Parse(b); err != nil {
			t.Fatalf("scene %q: %v", name, err)
		}
	}
	if code := simCmd([]string{"--scene", "rain", "--token", "t", "--org", "o", "--duration", "1ms"}); code != 2 {
		t.Fatalf("--scene rain: exit %d, want 2", code)
	}
}
