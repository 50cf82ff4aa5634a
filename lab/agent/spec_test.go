package agent

import (
	"strings"
	"testing"
)

// TestLoopbackArgs: whatever the pod asks, a lab gateway listens on its loopback pod IP only.
func TestLoopbackArgs(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--role=traffic", "--env=/x"}, "--role=traffic --env=/x --listen-ip=127.1.0.5"},
		{[]string{"--role=traffic", "--listen-ip=0.0.0.0"}, "--role=traffic --listen-ip=127.1.0.5"},
		{[]string{"--listen-ip", "0.0.0.0", "--role=anm"}, "--role=anm --listen-ip=127.1.0.5"},
		{[]string{"-listen-ip=10.0.0.1", "--role=anm"}, "--role=anm --listen-ip=127.1.0.5"},
		{[]string{"--listen-ip=", "--role=anm"}, "--role=anm --listen-ip=127.1.0.5"},
	} {
		got, err := loopbackArgs(c.args, "127.1.0.5")
		if err != nil || strings.Join(got, " ") != c.want {
			t.Errorf("%q: %q %v, want %q", c.args, got, err, c.want)
		}
	}
	for _, ip := range []string{"10.244.0.7", "0.0.0.0", "", "::"} {
		if _, err := loopbackArgs([]string{"--role=traffic"}, ip); err == nil || !strings.Contains(err.Error(), "127.0.0.0/8") {
			t.Errorf("pod IP %q: %v", ip, err)
		}
	}
}
