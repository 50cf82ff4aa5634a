// Package check is `apimctl check`: the reference architecture's rules against the live
// deployment, each finding with its fix.
package check
