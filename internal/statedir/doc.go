// Package statedir names apimctl's directory for what it keeps on the bastion host: the audit
// log, the backups, the restore state. It may import nothing of the project.
package statedir
