// Package tui is apimctl's terminal console: a Bubble Tea program that draws the live
// ops.Snapshot it is fed, on a dashboard and in drill-down views. It only renders: data
// arrives as snapshots from ops, and nothing here talks to a cluster or a database.
//
// It imports ops, ops/model and ops/action, never a client (client-go, gocql, database/sql,
// Prometheus): the import-rule test (internal/archtest) keeps it so.
package tui
