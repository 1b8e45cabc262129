package servicelevel

// The pure rules the external tests exercise directly.
var (
	ValidateTargets = validateTargets
	ValidateTerms   = validateTerms
)
