//go:build !race

package incident_test

// raceEnabled is true under the race detector, which slows the pure-Go SQLite driver many times over.
const raceEnabled = false
