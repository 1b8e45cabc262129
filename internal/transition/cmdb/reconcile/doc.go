// Package reconcile parses bulk data files (CSV or JSON) and reconciles observed
// configuration items against the CMDB by identification rules, as configuration
// verification and audit requires (DESMF CfM5).
//
// The package is pure: it reads only the io.Reader it is given and touches no
// database. Parse turns a discovery or import file into a Table; CheckColumns lets a
// caller refuse a file with unknown columns before applying anything; Reconcile
// matches observed rows to recorded items and reports what is missing, unexpected,
// mismatched, duplicated or ambiguous.
package reconcile
