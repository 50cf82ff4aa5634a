// Package labtest gives integration tests the running lab. Under CI=true a missing lab fails
// the test; elsewhere it skips with the command that starts the lab.
package labtest

import (
	"context"
	"net"
	"os"
	"testing"
	"time"

	"github.com/apimctl/apimctl/lab"
)

// Require returns the running lab's Env. The lab is found in lab.DefaultStateDir (so
// APIMCTL_LAB_DIR selects another); its API server must answer on its address.
func Require(t testing.TB) *lab.Env {
	t.Helper()
	env, err := lab.LoadEnv(lab.DefaultStateDir())
	if err == nil {
		err = probe(env)
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the lab is required and missing: %v (make test brings it up; by hand: make lab-up)", err)
		}
		t.Skipf("no lab: %v (start it with `make lab-up`)", err)
	}
	return env
}

// probe checks that the lab answers at all: MariaDB's port accepts a connection.
func probe(env *lab.Env) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", env.MySQLAddr)
	if err != nil {
		return err
	}
	return c.Close()
}
