package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

const mod = "steward/"

// layer ranks a package: a package may import only packages of a lower or equal
// layer, and the rules below refine "equal".
func layer(pkg string) int {
	p := strings.TrimPrefix(pkg, mod)
	switch {
	case strings.HasPrefix(p, "internal/platform/"), strings.HasPrefix(p, "internal/framework"):
		return 1
	case isArea(p):
		return 2
	case strings.HasPrefix(p, "internal/web"), strings.HasPrefix(p, "internal/tmf"):
		return 3
	case strings.HasPrefix(p, "internal/app"), strings.HasPrefix(p, "internal/gen"):
		return 4
	case strings.HasPrefix(p, "cmd/"), strings.HasPrefix(p, "bench"):
		return 5
	}
	return 0
}

var areaRoots = []string{"internal/strategy/", "internal/design/", "internal/transition/", "internal/operation/", "internal/improvement/"}

func isArea(p string) bool {
	for _, r := range areaRoots {
		if strings.HasPrefix(p, r) {
			return true
		}
	}
	return false
}

// TestImportGraph enforces cmd → app → web/tmf → areas → platform: imports point one way,
// areas do not import each other (they talk through interfaces, records, links and events),
// and there is no util/common dumping ground.
func TestImportGraph(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}:{{join .Imports " "}}`, "steward/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imps, _ := strings.Cut(line, ":")
		n++
		base := pkg[strings.LastIndex(pkg, "/")+1:]
		switch base {
		case "util", "utils", "common", "helpers", "misc":
			t.Errorf("package %s: no dumping-ground packages", pkg)
		}
		if layer(pkg) == 0 && pkg != "steward/internal/archtest" {
			t.Errorf("package %s is outside the known layout (cmd, internal/app, internal/gen, internal/web, internal/tmf, areas, internal/platform, internal/framework, bench)", pkg)
			continue
		}
		for _, imp := range strings.Fields(imps) {
			if !strings.HasPrefix(imp, mod) {
				continue
			}
			if layer(imp) > layer(pkg) {
				t.Errorf("%s imports %s: imports must point down (cmd → app → web/tmf → areas → platform)", pkg, imp)
			}
			p, i := strings.TrimPrefix(pkg, mod), strings.TrimPrefix(imp, mod)
			if isArea(p) && isArea(i) && areaOf(p) != areaOf(i) {
				t.Errorf("%s imports %s: process areas talk through interfaces, records, links and events", pkg, imp)
			}
		}
	}
	if n < 5 {
		t.Fatalf("only %d packages listed", n)
	}
}

// areaOf is the process package an area package belongs to, e.g. internal/operation/incident.
func areaOf(p string) string {
	parts := strings.Split(p, "/")
	if len(parts) >= 3 {
		return strings.Join(parts[:3], "/")
	}
	return p
}
