// Package model is the console's picture of one deployment — the Snapshot that the TUI renders,
// status prints and the checks judge — and every pure judgement over it: health, QUORUM per
// keyspace, the topology discovered from Kubernetes objects, whether a Deployment has rolled
// out, how a workload's state is worded, how an image reference reads.
//
// It may import only Kubernetes API types, go-containerregistry's reference parser and
// internal/: no client, no I/O, no other part of ops.
package model
