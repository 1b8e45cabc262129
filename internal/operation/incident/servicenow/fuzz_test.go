package servicenow

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// FuzzParse feeds Parse arbitrary files: it must never panic, and what it returns must
// hold together (see checkInvariants).
func FuzzParse(f *testing.F) {
	small, err := os.ReadFile(smallSample)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(small)
	head := "number,incident_state,sys_mod_count,sys_updated_at,impact,urgency,priority,made_sla,active,contact_type,category,opened_at\n"
	for _, s := range []string{
		"",
		head,
		head + "INC1,New,0,29-02-2016 01:16,2 - Medium,2 - Medium,3 - Moderate,TRUE,TRUE,Phone,Category 55,29-02-2016 01:16\n",
		head + "INC1,Closed,1,2016-02-29T01:16:00Z,1,3,Low,1,0,Self service,Réseau,2016-02-29 01:16\n",
		head + "INC1,-100,2,02/29/2016 1:16 PM,High,Low,Planning,yes,no,IVR,?,?\n",
		head + "INC1,Frozen,?,?,?,?,?,?,?,?,?,?\nINC1,\"Awaiting\nUser Info\",3,03-04-2016 10:00,?,?,?,?,?,?,?,?\n",
		head + "INC1,New,0,29-02-2016 01:16\n,New\n\"unclosed,New,0\n",
		head + "INC1,New,0,31-02-2016 25:61,9,9,9,maybe,perhaps,Fax,!!!,13-13-2016\n",
		"\ufeffNumber;Incident State;Sys Mod Count\nINC1;New;0\n",
		"number\tincident_state\tsys_updated_at\nINC1\tNew\t2016-02-29 01:16:00+01:00\n",
		"number,number,incident_state\n",
		strings.Repeat("a,", 100) + "\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		incs, rep, err := Parse(bytes.NewReader(data), Options{})
		if err != nil {
			if len(incs) != 0 {
				t.Fatalf("error %v with %d incidents", err, len(incs))
			}
			return
		}
		checkInvariants(t, incs, rep)
	})
}
