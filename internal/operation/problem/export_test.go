package problem

// The pure rules the external tests exercise directly.
var (
	ValidateRCA      = validateRCA
	ValidateReview   = validateReview
	ValidateRFC      = validateRFC
	ValidateStep     = validateStep
	ValidateTrend    = validateTrend
	ValidateDetails  = validateDetails
	NormalizeNumbers = normalizeNumbers
	Publishable      = publishable
	Stem             = stem
)
