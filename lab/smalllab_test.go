package lab_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apimctl/apimctl/lab"
	"github.com/apimctl/apimctl/lab/labtest"
)

// smallLab is a second lab beside the main one: other ports, its own state directory, no
// Cassandra (the main lab's nodes hold 127.0.0.1-3:9042).
func smallLab(t *testing.T, components ...string) lab.Options {
	t.Helper()
	o := lab.DefaultOptions()
	o.StateDir = filepath.Join(t.TempDir(), "lab")
	o.PortBase = 27000
	o.Components = components
	o.Progress = t.Logf
	return o
}

// TestDownLeavesNoProcess brings up a lab with every component but Cassandra, then takes it
// down and checks each recorded PID is gone.
func TestDownLeavesNoProcess(t *testing.T) {
	labtest.Require(t) // the binaries come from the main lab's first start
	if testing.Short() {
		t.Skip("starts a second control plane")
	}
	l, err := lab.New(smallLab(t, "kube", "mariadb", "prometheus", "registry"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	t.Cleanup(func() { _, _ = l.Down(context.Background(), false) })
	if _, err := l.Up(ctx); err != nil {
		t.Fatal(err)
	}
	pids, err := l.PIDs()
	if err != nil {
		t.Fatal(err)
	}
	// The control plane (5), metrics-server, kube-state-metrics, the lab agent and backend;
	// MariaDB; Prometheus and the blackbox exporter; the registry.
	if len(pids) != 13 {
		t.Fatalf("recorded %d processes, want 13: %v", len(pids), pids)
	}
	for name, pid := range pids {
		if err := syscall.Kill(pid, 0); err != nil {
			t.Fatalf("%s (pid %d) is not running after up: %v", name, pid, err)
		}
	}
	stopped, err := l.Down(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(stopped) != len(pids) {
		t.Errorf("down reported %d stopped, want %d", len(stopped), len(pids))
	}
	for name, pid := range pids {
		if _, err := os.Stat(filepath.Join("/proc", itoa(pid))); err == nil {
			st, _ := os.ReadFile(filepath.Join("/proc", itoa(pid), "cmdline"))
			if strings.Contains(string(st), l.Options().StateDir) {
				t.Errorf("%s (pid %d) still runs after down", name, pid)
			}
		}
	}
	if _, err := os.Stat(l.Options().StateDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("--wipe left %s", l.Options().StateDir)
	}
}

// TestUpWithATakenPortStartsNothing holds one port the lab needs: up names the port and the
// component, fails, and leaves no process and no PID file.
func TestUpWithATakenPortStartsNothing(t *testing.T) {
	o := smallLab(t, "mariadb", "prometheus", "registry")
	hold, err := net.Listen("tcp", "127.0.0.1:27500") // the registry's port
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	l, err := lab.New(o)
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Up(context.Background())
	var pe *lab.PortInUseError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want a PortInUseError", err)
	}
	if pe.Component != "registry" || pe.Addr != "127.0.0.1:27500" || !strings.Contains(err.Error(), "127.0.0.1:27500") || !strings.Contains(err.Error(), "registry") {
		t.Errorf("error %q should name the port and the component", err)
	}
	pids, _ := l.PIDs()
	if len(pids) != 0 {
		t.Errorf("processes recorded after a failed up: %v", pids)
	}
}

func itoa(n int) string {
	b := []byte{}
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}
