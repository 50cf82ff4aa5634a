package inspect_test

import (
	"context"
	"testing"
	"time"

	"github.com/apimctl/apimctl/lab"
	"github.com/apimctl/apimctl/lab/labtest"
	"github.com/apimctl/apimctl/ops/inspect"
	"github.com/apimctl/apimctl/ops/live"
)

// dataInspector is an Inspector on the running lab's data stores and Prometheus.
func dataInspector(t *testing.T) (*inspect.Inspector, *lab.Env) {
	t.Helper()
	env := labtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn := live.Connect(ctx, labtest.Targets(env, lab.ContextName, env.Namespace), func(string) string { return "" })
	return inspect.New(conn), env
}
