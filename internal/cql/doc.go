// Package cql holds what the gateway and the console both need to know about CQL text:
// quoting identifiers, checking names a user types, and splitting statements into tokens.
package cql
