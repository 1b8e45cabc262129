//go:build race

package servicenow

// raceEnabled is true when the tests run under the race detector, which makes the
// five-million-row test too slow to be worth it.
const raceEnabled = true
