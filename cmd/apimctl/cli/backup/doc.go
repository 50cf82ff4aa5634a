// Package backup is `apimctl backup`: create, list, verify, prune and restore backups of the
// deployment. Creating, pruning and restoring run as actions of ops/dr through the one runner.
package backup
