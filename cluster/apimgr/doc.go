// Package apimgr is a client of the API Manager's admin REST API (applications, keys, OAuth
// clients): what the DR canary and the lab's traffic generator call to make identities.
//
// It may import nothing of the project above cluster/ (ops and the lab consume it).
package apimgr
