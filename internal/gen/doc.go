// Package gen generates a realistic organisation of a chosen size into a fresh
// database, deterministically: the same scale and seed give the same rows,
// on SQLite and PostgreSQL alike. "steward gen" and "make bench" use it.
//
// # Scale
//
// The scale N is the organisation's size in incidents over the two generated
// years: the largest kind of record (the incidents generator writes N). The
// rest follows from N with the ratios of the ServiceNow incident log (about
// 25,000 incidents, 80 assignment groups, 230 resolvers): N/10 users (about
// five incidents per person per year), N/100 of them staff in N/300 assignment
// groups, and N/200 monitor-manage-report findings. Scale 100k is 10,000
// users, 1,000 staff in 333 groups and about 750 process-role assignments;
// scale 1M ten times as many people. See Plan.
//
// # What it generates
//
// Generators lists one generator per area, run in order:
//
//   - people: users with common names (a Zipf long tail of given names and
//     surnames), 2 % disabled; assignment groups whose sizes follow a power law
//     (a large headquarters service desk, a long tail of small specialist
//     groups) and whose names are a long tail of functions at sites; the
//     memberships; the built-in platform roles of staff.
//   - process-roles: the DESMF roles through the RACI tables: one owner per
//     domain and per process, unscoped managers, analysts and developers, the
//     process-specific roles (Change Manager, CAB …), and every group as the
//     scoped analyst of the one to three processes it works in.
//   - controls: the common process controls of internal/improvement/controls as
//     work records: per process a policy, procedures and KPI definitions in
//     lines of versions that went through review and approval (superseding
//     their predecessors), some still in draft, in review or waiting for the
//     owner's approval; findings with corrective actions carried as far as
//     their log-normal durations allow; quarterly performance evaluations.
//   - cmdb: N configuration items and about 3.2 N relations on the default
//     class tree, with services, versions and bench markers (cmdb.go).
//   - assets: the asset register of about 0.28 N assets, installations,
//     licences and inventory audits (assets.go).
//   - incidents: N incidents over the two years (incidents.go): callers from
//     the generated users, resolver groups that work in IM and their members,
//     services and CIs of the CMDB, categories with a Zipf long tail over the
//     taxonomy (30 categories and up to about 135 subcategories, the issue's
//     30 and 100 per 1,000 incidents capped at the taxonomy's size), the
//     priority mix, log-normal resolution times and reassignment counts of
//     dist.go, about 1 % major incidents with their children, updates and
//     reviews, 0.5 % security incidents, and a state mix that follows age.
//     Their journals hold the state-changing steps, one assignment, some
//     reprioritisations and holds resumed on the way, about five entries per
//     incident, not the ten state changes and three interactions of a real
//     incident (see incidents.go); their audit history holds the entries the
//     kernel and incident management write with each of those saves (record.create
//     with every field, record.assign, record.update, record.transition and
//     incident.hold, incident.resume, incident.resolve …), at the journal's times
//     (see incidents_audit.go), so that the SLA clocks derive from it.
//   - sla: calendars for the generated years, an SLA per critical (and busy)
//     service with response and resolution targets per priority and an
//     availability target, OLAs per main resolver team, two UCs, their terms,
//     all agreed before the generated years; and the services' outages:
//     planned maintenance, unplanned outages and those of the major incidents
//     (sla.go).
//
// Not generated yet: service requests, problems, changes, service reviews,
// improvement and availability plans.
//
// # Determinism
//
// Each generator draws from its own math/rand/v2 PCG source seeded with the
// run's seed and a hash of the generator's name, so adding a generator changes
// nothing the others produce. Every timestamp is derived from EpochMillis
// (2026-01-01 UTC), never from the clock; ids continue from the rows already
// there and are chosen in time order, as a live system would have given them.
//
// # The bulk path
//
// A run writes the rows the services would write (the record row, its number
// from the type's counter, its full-text entry on SQLite, a journal entry per
// create, step and change in the kernel's words, the version each save raises,
// the areas' own rows), with multi-row INSERTs (full batches through one
// prepared statement) in one transaction, and with foreign keys checked. The
// incidents' audit entries are written too, one per save as the services
// write them, chained into the hash chain with audit.Chain in time order
// after the entries already there; the other areas' records get none. No
// outbox events are written. One more audit entry, by "system:gen", records
// what the run loaded, in the same transaction, so "steward audit verify"
// passes. Run refuses a
// database that already holds an organisation (users other than
// administrators, teams, role assignments or records): generated data is never
// mixed into real data, and a second run would collide with the first.
package gen
