package raci

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

// WriteCSV writes a process's RACI matrix as CSV: a header row ("Activity", "Name", then each
// role's display name), then one row per activity with its letters ("A/R"). The
// classification marking (SetBanner), when set, is the first and the last line. Text that a
// spreadsheet would take for a formula is quoted with a leading apostrophe. It returns the
// matrix's version.
func (s *Service) WriteCSV(ctx context.Context, w io.Writer, process string) (version int64, err error) {
	st, pv, err := s.view(ctx, process)
	if err != nil {
		return 0, err
	}
	banner := ""
	if s.banner != nil {
		banner = s.banner(ctx)
	}
	cw := csv.NewWriter(w)
	if banner != "" {
		_ = cw.Write([]string{cellText(banner)})
	}
	header := []string{"Activity", "Name"}
	for _, r := range pv.matrix.Roles {
		name, _ := st.roleName(pv, r)
		header = append(header, cellText(name))
	}
	_ = cw.Write(header)
	for _, row := range pv.matrix.Rows {
		a, _ := pv.activity(row.Activity)
		rec := []string{cellText(row.Activity), cellText(a.Name)}
		for _, r := range pv.matrix.Roles {
			rec = append(rec, row.Cells[r].String())
		}
		_ = cw.Write(rec)
	}
	if banner != "" {
		_ = cw.Write([]string{cellText(banner)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return 0, fmt.Errorf("write the RACI matrix of %s as CSV: %w", process, err)
	}
	return pv.version, nil
}

// cellText defuses text a spreadsheet would evaluate as a formula (CSV injection).
func cellText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
