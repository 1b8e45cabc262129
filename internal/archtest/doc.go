// Package archtest holds the test that enforces Steward's import graph.
package archtest
