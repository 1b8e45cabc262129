package sla

import (
	"strings"
	"unicode/utf8"

	"steward/internal/platform/errs"
)

// MaxReasonLength is the longest a correction's reason may be, in characters.
const MaxReasonLength = 1000

// ValidateCorrection checks a correction of a record created at created (unix
// ms) made at now (unix ms): from may not be before the record existed, to must
// be after from and not in the future, and a reason (1 to MaxReasonLength
// characters after trimming) is required. The error is errs.Invalid naming
// each field ("from", "to", "reason").
func ValidateCorrection(c Correction, created, now int64) error {
	var fe []errs.FieldError
	if c.From < created {
		fe = append(fe, errs.FieldError{Location: "from", Message: "a correction cannot begin before the record existed", Value: c.From})
	}
	if c.To <= c.From {
		fe = append(fe, errs.FieldError{Location: "to", Message: "a correction must end after it begins", Value: c.To})
	} else if c.To > now {
		fe = append(fe, errs.FieldError{Location: "to", Message: "a correction cannot end in the future", Value: c.To})
	}
	reason := strings.TrimSpace(c.Reason)
	if n := utf8.RuneCountInString(reason); n == 0 || n > MaxReasonLength {
		fe = append(fe, errs.FieldError{Location: "reason", Message: "a reason of 1 to 1000 characters is required"})
	} else if !utf8.ValidString(reason) {
		fe = append(fe, errs.FieldError{Location: "reason", Message: "text must be valid UTF-8"})
	}
	return errs.WithFields(fe)
}
