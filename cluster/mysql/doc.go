// Package mysql observes the metrics database (MySQL or MariaDB) over database/sql.
//
// It may import nothing of the project above cluster/ (ops consumes it, never the reverse).
package mysql
