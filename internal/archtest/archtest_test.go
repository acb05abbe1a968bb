package archtest

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/camcloud/camcloud/internal/testenv"
)

const mod = "github.com/camcloud/camcloud/"

// listed is what `go list -json` tells of a package.
type listed struct {
	ImportPath   string
	Dir          string
	GoFiles      []string
	Imports      []string
	Deps         []string
	TestImports  []string
	XTestImports []string
	Export       string
}

// goList runs go list with args and decodes its stream of JSON objects.
func goList(t *testing.T, args ...string) []listed {
	t.Helper()
	goBin := testenv.Tool(t, "go")
	cmd := exec.Command(goBin, append([]string{"list"}, args...)...)
	cmd.Dir = filepath.Join("..", "..")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	var ps []listed
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return ps
}

// siblings are the packages that register routes on httpapi.
var siblings = []string{mod + "internal/api", mod + "internal/live", mod + "internal/playback", mod + "web"}

// TestSiblingsImportNoneOfEachOther: api, live, playback and web depend on
// httpapi and on none of each other (also not from their tests' own
// imports), httpapi depends on none of them, and neither api nor httpapi
// links an RTSP or RTMP library.
func TestSiblingsImportNoneOfEachOther(t *testing.T) {
	ps := goList(t, append([]string{"-json=ImportPath,Imports,Deps,TestImports,XTestImports", mod + "internal/httpapi"}, siblings...)...)
	if len(ps) != 5 {
		t.Fatalf("go list answered %d packages", len(ps))
	}
	for _, p := range ps {
		own := p.ImportPath == mod+"internal/httpapi"
		if !own && !slices.Contains(p.Imports, mod+"internal/httpapi") {
			t.Errorf("%s does not register on httpapi", p.ImportPath)
		}
		direct := slices.Concat(p.TestImports, p.XTestImports)
		for _, s := range siblings {
			if s == p.ImportPath {
				continue
			}
			if slices.Contains(p.Deps, s) {
				t.Errorf("%s depends on %s", p.ImportPath, s)
			}
			if slices.Contains(direct, s) {
				t.Errorf("the tests of %s import %s", p.ImportPath, s)
			}
		}
		if p.ImportPath == mod+"internal/api" || own {
			for _, d := range p.Deps {
				if strings.HasPrefix(d, "github.com/bluenviron/") {
					t.Errorf("%s links %s", p.ImportPath, d)
				}
			}
		}
	}
}

// handlerFiles are the files of handlers: every file of these packages,
// and of live only its API route. (playback's routes read their zone's
// recording index, which is the media service they are.)
var handlerFiles = map[string]func(file string) bool{
	mod + "internal/api":     func(string) bool { return true },
	mod + "internal/httpapi": func(string) bool { return true },
	mod + "web":              func(string) bool { return true },
	mod + "internal/live":    func(f string) bool { return f == "api.go" },
}

// TestHandlersCallNoRepository type-checks the handler packages against
// the compiler's export data and fails on any call of a method of a
// repository (store.Directory, store.Zone) from a handler file: handlers
// go through the services, which own the rules and transactions.
func TestHandlersCallNoRepository(t *testing.T) {
	var args []string
	for p := range handlerFiles {
		args = append(args, p)
	}
	ps := goList(t, append([]string{"-export", "-deps", "-json=ImportPath,Dir,GoFiles,Export"}, args...)...)
	exports := map[string]string{}
	for _, p := range ps {
		exports[p.ImportPath] = p.Export
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		return os.Open(exports[path])
	})
	checked := 0
	for _, p := range ps {
		keep, ok := handlerFiles[p.ImportPath]
		if !ok {
			continue
		}
		var files []*ast.File
		for _, f := range p.GoFiles {
			af, err := parser.ParseFile(fset, filepath.Join(p.Dir, f), nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, af)
		}
		info := &types.Info{Selections: map[*ast.SelectorExpr]*types.Selection{}}
		if _, err := (&types.Config{Importer: imp}).Check(p.ImportPath, fset, files, info); err != nil {
			t.Fatalf("type-check %s: %v", p.ImportPath, err)
		}
		checked++
		for sel, s := range info.Selections {
			if s.Kind() != types.MethodVal || !isRepository(s.Recv()) {
				continue
			}
			pos := fset.Position(sel.Pos())
			if keep(filepath.Base(pos.Filename)) {
				t.Errorf("%s:%d: a handler calls the repository method %s.%s", filepath.Base(pos.Filename), pos.Line, s.Recv(), s.Obj().Name())
			}
		}
	}
	if checked != len(handlerFiles) {
		t.Fatalf("checked %d of %d packages", checked, len(handlerFiles))
	}
}

// isRepository reports whether t is one of the store's repository
// interfaces (or a pointer to one of its types).
func isRepository(t types.Type) bool {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := t.(*types.Named)
	if !ok || n.Obj().Pkg() == nil || n.Obj().Pkg().Path() != mod+"internal/store" {
		return false
	}
	switch n.Obj().Name() {
	case "Directory", "Zone":
		return true
	}
	return false
}
