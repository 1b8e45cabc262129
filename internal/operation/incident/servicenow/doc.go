// Package servicenow reads a ServiceNow incident export — the event log with one row per
// state change, as in the shared incident_event_log sample — and maps each incident's
// last state to Steward's vocabulary: states, channels, impact, urgency and priority,
// taxonomy keys and UTC times. It is a pure parser with no database: the incident area
// stores what Parse returns.
package servicenow
