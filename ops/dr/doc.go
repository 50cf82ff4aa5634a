// Package dr is backup and disaster recovery as use cases: planning and writing a backup of the
// deployment (Cassandra, the metrics database, the namespace, the images, the event files and
// packages) into a location (a directory or Azure Blob), pruning, restoring one into a target
// exactly and resumably (the journal is named after the whole target), the backup schedule
// (a systemd timer) and its status, and the DR drill with its canary — each change an action
// for the one runner (ops/action). The engines that read and write the data are in backup/.
//
// It may import backup/ (the engines), cluster/, ops/model, ops/action, ops/live and
// ops/rollout.
package dr
