// Package statedir names apimctl's directory for what it keeps on the bastion host: the audit
// log, the backups, the restore state. It may import nothing of the project.
package statedir

import (
	"os"
	"path/filepath"
)

// Dir is $XDG_STATE_HOME/apimctl, else ~/.local/state/apimctl. getenv is os.Getenv outside
// tests.
func Dir(getenv func(string) string) string {
	if getenv == nil {
		getenv = os.Getenv
	}
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "apimctl")
	}
	home := getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	return filepath.Join(home, ".local", "state", "apimctl")
}
