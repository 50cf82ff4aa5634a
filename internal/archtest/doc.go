// Package archtest holds the architecture's import rules as a test: which package may import
// what (see ARCHITECTURE.md). It has no code of its own.
package archtest
