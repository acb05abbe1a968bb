package archtest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// packageMap reads the package map of docs/architecture.md: for each
// package (as "internal/x", "cmd/x" or "web"), the project packages it may
// import, in the same form.
func packageMap(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i := strings.Index(text, "## Package map")
	if i < 0 {
		t.Fatal("docs/architecture.md has no \"## Package map\" section")
	}
	rows := map[string][]string{}
	for _, line := range strings.Split(text[i:], "\n")[1:] {
		if strings.HasPrefix(line, "## ") {
			break
		}
		cells := strings.Split(line, "|")
		if len(cells) != 5 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		pkg := strings.Trim(strings.TrimSpace(cells[1]), "`")
		var may []string
		for _, m := range strings.Split(cells[3], ",") {
			if m = strings.TrimSpace(m); m != "" {
				if m != "web" {
					m = "internal/" + m
				}
				may = append(may, m)
			}
		}
		rows[pkg] = may
	}
	return rows
}

// TestPackageMap: every package of the module has a row in the package
// map of docs/architecture.md, and imports only project packages its row
// lists, so the map stays true as the code changes.
func TestPackageMap(t *testing.T) {
	rows := packageMap(t)
	for _, p := range goList(t, "-json=ImportPath,Imports", "./...") {
		name := strings.TrimPrefix(p.ImportPath, mod)
		if name == strings.TrimSuffix(mod, "/") {
			continue // the module root holds only embedded media
		}
		may, ok := rows[name]
		if !ok {
			t.Errorf("%s has no row in the package map of docs/architecture.md", name)
			continue
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, mod) {
				continue
			}
			if dep := strings.TrimPrefix(imp, mod); !slices.Contains(may, dep) {
				t.Errorf("%s imports %s, which its row in the package map of docs/architecture.md does not list", name, dep)
			}
		}
	}
}
