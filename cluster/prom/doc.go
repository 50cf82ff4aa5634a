// Package prom queries Prometheus through client_golang's HTTP API.
//
// It may import nothing of the project above cluster/ (ops consumes it, never the reverse).
package prom
