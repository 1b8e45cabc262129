package reconcile

import (
	"math/big"
	"strings"
	"testing"
)

// TestAppendNumberAgreesWithBigRat checks the canonical number form against exact
// rational arithmetic over many spellings of a few values.
func TestAppendNumberAgreesWithBigRat(t *testing.T) {
	t.Parallel()
	var spellings []string
	for _, sign := range []string{"", "+", "-"} {
		for _, intPart := range []string{"", "0", "00", "1", "01", "10", "100", "25"} {
			for _, frac := range []string{"", ".", ".0", ".5", ".50", ".05", ".25", ".00"} {
				for _, exp := range []string{"", "e0", "E1", "e-1", "e+2", "e-03"} {
					s := sign + intPart + frac + exp
					if intPart == "" && strings.Trim(frac, ".") == "" {
						continue
					}
					spellings = append(spellings, s)
				}
			}
		}
	}
	rat := func(s string) *big.Rat {
		s = strings.TrimPrefix(s, "+")
		// big.Rat wants a digit before and after the point.
		s = strings.Replace(s, "-.", "-0.", 1)
		if strings.HasPrefix(s, ".") {
			s = "0" + s
		}
		s = strings.Replace(s, ".e", ".0e", 1)
		s = strings.Replace(s, ".E", ".0E", 1)
		if strings.HasSuffix(s, ".") {
			s += "0"
		}
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("big.Rat cannot parse %q", s)
		}
		return r
	}
	forms := make([]string, len(spellings))
	rats := make([]*big.Rat, len(spellings))
	for i, s := range spellings {
		b, ok := appendNumber(nil, s)
		if !ok {
			t.Fatalf("appendNumber(%q) is not a number", s)
		}
		forms[i], rats[i] = string(b), rat(s)
	}
	for i := range spellings {
		for j := i + 1; j < len(spellings); j++ {
			if (forms[i] == forms[j]) != (rats[i].Cmp(rats[j]) == 0) {
				t.Errorf("%q → %q and %q → %q disagree with exact comparison", spellings[i], forms[i], spellings[j], forms[j])
			}
		}
	}
	for _, s := range []string{"", "+", "-", ".", "e1", "1e", "1e+", "1.2.3", "0x10", "1_0", "Inf", "NaN", " 1", "1 ", "١٢"} {
		if b, ok := appendNumber(nil, s); ok {
			t.Errorf("appendNumber(%q) = %q, want not a number", s, b)
		}
	}
}
