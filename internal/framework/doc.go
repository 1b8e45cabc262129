// Package framework is Steward's process reference model: the DoD Enterprise Service
// Management Framework (DESMF Edition III) and the TAXUD IT Service Continuity Management
// procedure (FQP Annex 19), held as JSON data embedded in the binary.
//
// The model has the five lifecycle domains (DESMF §9), the processes of each domain with
// their purpose, scope, benefits, expected outcomes and numbered activities ([IM1]…), the
// NIST RMF variant of Information Security Management (Appendix E, [SEC1]–[SEC9]), the
// supporting functions (§10), the roles (§7, §10.1 and those the process texts name), the
// domain relationship table (§9.6), the generic RACI template (Table 7.10(B)) with the common
// process controls (§6), and the TAXUD sub-processes ITSCM.1–ITSCM.4 with their 33 elementary
// activities, the RACI of Table 4-1 and the interfaces and deliverables of Table 4-2.
//
// Load parses and validates the embedded data; Embedded returns one shared, lazily loaded
// model. DefaultRACI builds a process's starting responsibility matrix and Validate checks a
// matrix that later code has edited. docs/framework.md explains where every part comes from.
//
// Values returned by a Model are shared and must be treated as read-only; DefaultRACI
// returns a fresh Matrix that the caller may change.
package framework
