// Package cassandra observes a Cassandra cluster through gocql: the nodes gocql sees up or
// down (from its own host-state notifications), their DC, rack and version, and keyspaces.
//
// It may import nothing of the project above cluster/ (ops consumes it, never the reverse).
package cassandra
