// Package dr is backup and disaster recovery as use cases: planning and writing a backup of the
// deployment (Cassandra, the metrics database, the namespace, the images), pruning, and
// restoring one into a target — each an action for the one runner (ops/action). The engines
// that read and write the data are in backup/.
//
// It may import backup/ (the engines), cluster/, ops/model, ops/action, ops/live and
// ops/rollout.
package dr
