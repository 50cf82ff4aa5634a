// Package cql holds what the gateway and the console both need to know about CQL text.
package cql
