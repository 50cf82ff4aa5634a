package archtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const mod = "github.com/apimctl/apimctl/"

// The clients a package reaches a system with. Only cluster/, backup/ (its engines), the
// gateway and the lab may speak to a system directly; ops reaches one through cluster/.
var clients = []string{"k8s.io/client-go", "github.com/gocql/gocql", "database/sql", "github.com/go-sql-driver/mysql",
	"github.com/prometheus/client_golang", "github.com/google/go-containerregistry/pkg/v1/remote", "github.com/Azure/azure-sdk-for-go"}

// rule: a package (and those below it) may not import any of forbid (prefixes), except the
// prefixes in allow.
type rule struct {
	pkg    string
	forbid []string
	allow  []string
	why    string
}

func join(a ...[]string) []string {
	var out []string
	for _, s := range a {
		out = append(out, s...)
	}
	return out
}

var rules = []rule{
	{"tui", join(clients, []string{mod + "cluster", mod + "backup", mod + "lab", mod + "cmd", mod + "gateway", mod + "ops/live", mod + "ops/dr", mod + "ops/rollout", mod + "ops/patch"}), nil,
		"the TUI only renders: its data comes from ops as messages, its changes as ops proposals"},
	{"ops", []string{mod + "tui", mod + "cmd", mod + "lab", mod + "gateway"}, nil,
		"ops is what both front ends share; it knows neither, nor the lab or the gateway"},
	{"ops/model", join(clients, []string{mod + "cluster", mod + "backup", mod + "ops"}), []string{mod + "ops/model"},
		"the model and its judgements are pure: no I/O, no other part of ops"},
	{"ops/check", join(clients, []string{mod + "cluster", mod + "backup", mod + "ops"}), []string{mod + "ops/model", mod + "ops/check"},
		"checks are pure functions over the model"},
	{"ops/action", []string{mod, "k8s.io", "github.com/gocql", "database/sql"}, []string{mod + "internal", mod + "ops/action"},
		"the action runner depends on nothing it runs"},
	{"cluster", []string{mod + "ops", mod + "tui", mod + "cmd", mod + "backup", mod + "lab", mod + "gateway", mod + "deploy"}, nil,
		"cluster/ are clients that ops consumes; they never call back up"},
	{"backup", []string{mod + "ops", mod + "tui", mod + "cmd", mod + "lab", mod + "gateway"}, nil,
		"the backup engines are driven by ops/dr and know nothing above them"},
	{"gateway", []string{mod + "ops", mod + "tui", mod + "cmd", mod + "lab", mod + "backup", mod + "cluster"}, nil,
		"the gateway runtime ships on its own"},
	{"deploy", []string{mod + "ops", mod + "tui", mod + "cmd", mod + "lab", mod + "gateway", mod + "backup", mod + "cluster"}, nil,
		"deploy/ is the manifests and their renderer"},
	{"internal", []string{mod}, []string{mod + "internal"},
		"internal/ helpers import nothing of the project"},
}

// violations are the imports of pkg (a path relative to the module) that a rule forbids.
func violations(pkg string, imports []string) []string {
	var out []string
	for _, r := range rules {
		if pkg != r.pkg && !strings.HasPrefix(pkg, r.pkg+"/") {
			continue
		}
	imports:
		for _, imp := range imports {
			for _, a := range r.allow {
				if imp == a || strings.HasPrefix(imp, a+"/") {
					continue imports
				}
			}
			for _, f := range r.forbid {
				if imp == f || strings.HasPrefix(imp, strings.TrimSuffix(f, "/")+"/") || (strings.HasSuffix(f, "/") && strings.HasPrefix(imp, f)) {
					out = append(out, pkg+" imports "+imp+": "+r.why)
					continue imports
				}
			}
		}
	}
	return out
}

// TestImportRules checks every non-test file of the module against the rules.
func TestImportRules(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	imports := map[string]map[string]bool{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "bin") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		rel = filepath.ToSlash(rel)
		if imports[rel] == nil {
			imports[rel] = map[string]bool{}
		}
		for _, s := range f.Imports {
			v, _ := strconv.Unquote(s.Path.Value)
			imports[rel][v] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(imports) < 20 {
		t.Fatalf("found only %d packages under %s", len(imports), root)
	}
	var bad []string
	for pkg, set := range imports {
		var list []string
		for imp := range set {
			list = append(list, imp)
		}
		bad = append(bad, violations(pkg, list)...)
	}
	sort.Strings(bad)
	for _, b := range bad {
		t.Error(b)
	}
}

// TestImportRulesCatchAForbiddenImport proves the rules bite: each of these would be a
// violation if a file added it.
func TestImportRulesCatchAForbiddenImport(t *testing.T) {
	for pkg, imp := range map[string]string{
		"tui":               "k8s.io/client-go/kubernetes",
		"ops/model":         "database/sql",
		"ops/check":         mod + "ops/live",
		"cluster/kube":      mod + "ops/model",
		"ops/rollout":       mod + "tui",
		"internal/redact":   mod + "ops",
		"ops/action":        "k8s.io/client-go/rest",
		"gateway/proxy":     mod + "cluster/kube",
		"backup":            mod + "ops/dr",
		"tui/somecomponent": "github.com/gocql/gocql",
	} {
		if v := violations(pkg, []string{imp}); len(v) == 0 {
			t.Errorf("%s importing %s passed the rules", pkg, imp)
		}
	}
	for pkg, imp := range map[string]string{
		"tui":         mod + "ops/model",
		"ops/check":   mod + "ops/model",
		"ops/action":  mod + "internal/redact",
		"ops/live":    mod + "cluster/kube",
		"cmd/apimctl": "k8s.io/client-go/kubernetes",
	} {
		if v := violations(pkg, []string{imp}); len(v) != 0 {
			t.Errorf("%s importing %s was refused: %v", pkg, imp, v)
		}
	}
}
