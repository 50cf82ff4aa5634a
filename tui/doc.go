// Package tui is apimctl's terminal console: a Bubble Tea program that draws the live
// ops.Snapshot it is fed, on a dashboard and in drill-down views, and drives the changes of
// ops.Console as jobs (job.go) started from keys and action dialogs (dialog.go). It only
// renders: data arrives as snapshots from ops, changes are ops' proposals, and nothing here
// talks to a cluster or a database.
//
// It imports ops, ops/model, ops/action and ops/check (pure: which action a finding offers),
// never a client (client-go, gocql, database/sql,
// Prometheus): the import-rule test (internal/archtest) keeps it so.
package tui
