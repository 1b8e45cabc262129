package framework

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// seedDir holds the two seed documents, relative to this package's directory.
const seedDir = "../../../shared/seeds"

const (
	desmfSeed = "000_019ded7a28ba6c31.txt"
	taxudSeed = "004_ba46089795fa25d4.txt"
)

func readSeed(t *testing.T, name string) string {
	t.Helper()
	if _, err := os.Stat(seedDir); os.IsNotExist(err) {
		t.Skipf("seed folder %s does not exist (it sits beside the repository in the Steward workspace); skipping the seed comparison", seedDir)
	}
	b, err := os.ReadFile(filepath.Join(seedDir, name))
	if err != nil {
		t.Fatalf("seed folder exists but %s cannot be read: %v", name, err)
	}
	return string(b)
}

// squeeze removes all white space and the extraction's bullet glyphs, so text can be
// compared regardless of line wrapping.
func squeeze(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == ' ', r == '\n', r == '\t', r == '\r', r == '\u00a0', r == '\uf0b7', r == '•':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

var (
	desmfCode      = regexp.MustCompile(`\[([A-Za-z]{1,6}[0-9]{1,2})\]`)
	desmfSpaceCode = regexp.MustCompile(`\[([A-Za-z]{1,6}) ([0-9]{1,2})\]`)
	taxudActCode   = regexp.MustCompile(`ITSCM\.[1-4]\.[0-9]{1,2}`)
	taxudSubCode   = regexp.MustCompile(`ITSCM\.[1-4]\b`)
	templateCode   = regexp.MustCompile(`^XXX[1-6]$`)
	listMarker     = regexp.MustCompile(`(?m)^\s*- `)
	// taxudPageHeader matches the running header and footer lines of the TAXUD extraction.
	taxudPageHeader = regexp.MustCompile(`(?m)^\s*(ITSM REF\.:.*|FQP - Annex 19: IT Service Continuity Management VER\.:.*|4 - TSM Process model ISSUE DATE:.*|ITS-IFQP-SC04-Annex 19 IT Service Continuity Management v1\.04_TAXUD Page .*)$`)
)

// TestSeedCodesAreModelled fails if any bracketed activity code of DESMF (other than the
// generic template's [XXX1]–[XXX6]) or any ITSCM.x / ITSCM.x.y code of the TAXUD procedure
// is missing from the model.
func TestSeedCodesAreModelled(t *testing.T) {
	desmf := readSeed(t, desmfSeed)
	taxud := readSeed(t, taxudSeed)
	m := load(t)

	seen := map[string]bool{}
	for _, mm := range desmfCode.FindAllStringSubmatch(desmf, -1) {
		seen[mm[1]] = true
	}
	for _, mm := range desmfSpaceCode.FindAllStringSubmatch(desmf, -1) { // "[ISM 6]"
		seen[mm[1]+mm[2]] = true
	}
	n := 0
	for code := range seen {
		if templateCode.MatchString(code) {
			continue
		}
		n++
		a := m.Activity(code)
		if a == nil {
			t.Errorf("DESMF code [%s] is not an activity of the model", code)
			continue
		}
		if p := m.Process(a.Process); p == nil || p.Framework != DESMF {
			t.Errorf("[%s] belongs to %q, not a DESMF process", code, a.Process)
		}
	}
	if n != 201 {
		t.Errorf("found %d distinct DESMF activity codes in the seed, expected 201 (192 in §9, 9 in Appendix E)", n)
	}

	tx := map[string]bool{}
	for _, c := range taxudActCode.FindAllString(taxud, -1) {
		tx[c] = true
		if a := m.Activity(c); a == nil || m.Process(a.Process).Framework != TAXUD {
			t.Errorf("TAXUD code %s is not a TAXUD activity of the model", c)
		}
	}
	for _, c := range taxudSubCode.FindAllString(taxud, -1) {
		if p := m.Process(c); p == nil || p.Framework != TAXUD {
			t.Errorf("TAXUD sub-process %s is not in the model", c)
		}
	}
	if len(tx) != 33 {
		t.Errorf("found %d distinct ITSCM.x.y codes in the TAXUD seed, expected 33", len(tx))
	}
}

// TestModelIsFromSeed checks the other direction: every activity code the model takes from
// a seed occurs there, every name is the seed's wording (ignoring line breaks), every
// description and purpose starts with the seed's text, and every §9.6 item is in the table.
func TestModelIsFromSeed(t *testing.T) {
	desmf := readSeed(t, desmfSeed)
	taxud := readSeed(t, taxudSeed)
	m := load(t)
	sd, st := squeeze(desmf), squeeze(taxudPageHeader.ReplaceAllString(taxud, ""))

	prefix := func(s string, n int) string {
		s = squeeze(listMarker.ReplaceAllString(s, ""))
		r := []rune(s)
		if len(r) > n {
			r = r[:n]
		}
		return string(r)
	}
	for _, a := range m.Activities() {
		p := m.Process(a.Process)
		switch {
		case p.Framework == TAXUD:
			if !strings.Contains(st, squeeze(a.Code+": "+a.Name)) {
				t.Errorf("%s: heading %q not in the TAXUD seed", a.Code, a.Name)
			}
			if a.RACIName != "" && !strings.Contains(st, squeeze(a.Code+" "+a.RACIName)) {
				t.Errorf("%s: Table 4-1 name %q not in the TAXUD seed", a.Code, a.RACIName)
			}
			if !strings.Contains(st, prefix(a.Description, 60)) {
				t.Errorf("%s: description does not start with the seed's text: %.60q", a.Code, a.Description)
			}
		case a.CodeAssigned:
			if strings.Contains(desmf, "["+a.Code+"]") {
				t.Errorf("%s is marked as assigned by Steward but occurs in the seed", a.Code)
			}
			if !strings.Contains(strings.ToLower(sd), strings.ToLower(squeeze(a.Name))) {
				t.Errorf("%s: name %q not in the DESMF seed", a.Code, a.Name)
			}
			if !strings.Contains(sd, prefix(a.Description, 60)) {
				t.Errorf("%s: description does not start with the seed's text: %.60q", a.Code, a.Description)
			}
		default:
			if !strings.Contains(sd, squeeze("["+a.Code+"] "+a.Name)) {
				t.Errorf("[%s] %q is not written so in the DESMF seed", a.Code, a.Name)
			}
			if !strings.Contains(sd, prefix(a.Description, 60)) {
				t.Errorf("[%s]: description does not start with the seed's text: %.60q", a.Code, a.Description)
			}
		}
	}
	for _, p := range m.Processes() {
		if !strings.Contains(sd, prefix(p.Purpose, 80)) {
			t.Errorf("%s: purpose does not start with the seed's text: %.80q", p.Code, p.Purpose)
		}
		for _, b := range append(append([]string(nil), p.Benefits...), p.Outcomes...) {
			// compared case-insensitively: "Cis" in the seed is written "CIs" in the model
			if !strings.Contains(strings.ToLower(sd), strings.ToLower(prefix(b, 50))) {
				t.Errorf("%s: benefit/outcome %q not in the seed", p.Code, b)
			}
		}
	}
	for _, p := range m.TAXUD().SubProcesses() {
		if !strings.Contains(st, prefix(p.Purpose, 80)) {
			t.Errorf("%s: description does not start with the seed's text", p.Code)
		}
	}
	i := strings.Index(desmf, "9.6 DOMAIN RELATIONSHIPS TABLE")
	j := strings.Index(desmf, "TABLE 9.6: DOMAIN RELATIONSHIP TABLE")
	if i < 0 || j < i {
		t.Fatal("§9.6 table not found in the seed")
	}
	table := squeeze(desmf[i:j])
	for _, r := range m.Relationships() {
		if !strings.Contains(table, squeeze(r.Flow)) {
			t.Errorf("§9.6 item %q (%s→%s) not in the table", r.Flow, r.From, r.To)
		}
	}
}

// TestTAXUDRACIMatchesTable re-reads Table 4-1 from the seed and compares every cell with
// the model. In the extracted text the cells of a row are separated by one space and every
// empty cell adds two more, so the column of each entry can be recovered.
func TestTAXUDRACIMatchesTable(t *testing.T) {
	taxud := readSeed(t, taxudSeed)
	m := load(t)
	lines := strings.Split(taxud, "\n")
	var rows []string
	in := false
	for _, l := range lines {
		if strings.Contains(l, "Table 4-1") {
			break
		}
		s := strings.TrimLeft(l, " ")
		if strings.HasPrefix(s, "ITSCM.1.1 Gather DRP") {
			in = true
		}
		if !in || strings.TrimSpace(l) == "" {
			continue
		}
		if regexp.MustCompile(`^ITSCM\.\d\.\d+ `).MatchString(s) {
			rows = append(rows, s)
		} else {
			rows[len(rows)-1] += l
		}
	}
	if len(rows) != 33 {
		t.Fatalf("parsed %d rows of Table 4-1, want 33", len(rows))
	}
	rowRE := regexp.MustCompile(`^(ITSCM\.\d\.\d+) .*?((?: +[IACR](?:/[IACR])*)+)( *)$`)
	cellRE := regexp.MustCompile(`( +)([IACR/]+)`)
	cols := m.TAXUD().Roles
	for _, row := range rows {
		mm := rowRE.FindStringSubmatch(row)
		if mm == nil {
			t.Fatalf("cannot parse Table 4-1 row %q", row)
		}
		code := mm[1]
		mx := m.DefaultRACI(m.Activity(code).Process)
		col := 0
		got := map[int]string{}
		for _, c := range cellRE.FindAllStringSubmatch(mm[2], -1) {
			col += (len(c[1])-1)/2 + 1
			got[col] = c[2]
		}
		if total := col + (len(mm[3])-1)/2; total != 13 {
			t.Errorf("%s: %d columns, want 13", code, total)
		}
		for i, r := range cols {
			if want, have := got[i+1], mx.Cell(code, r.Code).String(); want != have {
				t.Errorf("%s column %d (%s): seed %q, model %q", code, i+1, r.Code, want, have)
			}
		}
	}
}
