// Package live is the live model: the Connection (the kube context and the endpoints and
// credentials of Cassandra, the metrics database and Prometheus, resolved from flags, the
// environment and the namespace's Secrets) and the sources that read them — Kubernetes by
// watches, the data stores and Prometheus by bounded polling — each with its own freshness
// and error, coalesced into model.Snapshots.
//
// It may import cluster/ (the clients), ops/model, ops/check and ops/action.
package live
