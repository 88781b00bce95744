package deploy

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// repoRoot is the repository's root: the parent of this module.
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(wd)
	if _, err := os.Stat(filepath.Join(root, "pkg", "config", "config.go")); err != nil {
		t.Fatalf("repository root not found from %s: %v", wd, err)
	}
	return root
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// settings are the KEFU_* variables each process reads, taken from
// pkg/config: the flag names given to o.add in (*Gateway).options and
// (*Routing).options, as config.envName turns them into variables.
type settings struct{ gateway, routing map[string]bool }

func configSettings(t *testing.T) settings {
	t.Helper()
	path := filepath.Join(repoRoot(t), "pkg", "config", "config.go")
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	s := settings{gateway: map[string]bool{}, routing: map[string]bool{}}
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Name.Name != "options" || fn.Recv == nil || len(fn.Recv.List) != 1 {
			continue
		}
		star, ok := fn.Recv.List[0].Type.(*ast.StarExpr)
		if !ok {
			continue
		}
		recv, _ := star.X.(*ast.Ident)
		var into map[string]bool
		switch {
		case recv != nil && recv.Name == "Gateway":
			into = s.gateway
		case recv != nil && recv.Name == "Routing":
			into = s.routing
		default:
			continue
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "add" {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			name, err := strconv.Unquote(lit.Value)
			if err == nil {
				into[envName(name)] = true
			}
			return true
		})
	}
	if len(s.gateway) < 10 || len(s.routing) < 5 || !s.gateway["KEFU_SECRET"] || !s.routing["KEFU_LEASE_TTL"] {
		t.Fatalf("could not read the settings from %s: gateway %v, routing %v", path, keys(s.gateway), keys(s.routing))
	}
	return s
}

// envName is pkg/config's envName: KEFU_ + the flag in upper case, - as _.
func envName(flag string) string {
	return "KEFU_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// haproxyServers maps the LB_GW<i> slots of haproxy.cfg to their server
// names (node ids), checking that each server line sits in its slot's
// `.if defined(LB_GW<i>)` block.
func haproxyServers(t *testing.T, cfg string) map[int]string {
	t.Helper()
	re := regexp.MustCompile(`(?m)^\.if defined\(LB_GW(\d+)\)\n\s+server (\S+) "\$LB_GW(\d+)" cookie (\S+)\n\.endif$`)
	out := map[int]string{}
	for _, m := range re.FindAllStringSubmatch(cfg, -1) {
		slot, _ := strconv.Atoi(m[1])
		if m[1] != m[3] || m[2] != m[4] {
			t.Errorf("haproxy.cfg slot LB_GW%s: server %s on $LB_GW%s with cookie %s", m[1], m[2], m[3], m[4])
		}
		out[slot] = m[2]
	}
	return out
}
