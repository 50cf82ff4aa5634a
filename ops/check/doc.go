// Package check holds the reference architecture's rules: each a pure function over a
// model.Snapshot with a stable ID, a severity and a fix, grouped by what it checks (sources,
// data stores, gateways, placement, ingress).
//
// It may import ops/model and internal/ only.
package check
