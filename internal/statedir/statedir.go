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

// Path is $env when it is set, else name in Dir: where a file or directory of apimctl's
// state is kept, unless the environment says otherwise. getenv is os.Getenv outside tests.
func Path(getenv func(string) string, env, name string) string {
	if getenv == nil {
		getenv = os.Getenv
	}
	if p := getenv(env); p != "" {
		return p
	}
	return filepath.Join(Dir(getenv), name)
}
