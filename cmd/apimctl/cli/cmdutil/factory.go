package cmdutil

import (
	"context"
	"time"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/iostreams"
	"github.com/apimctl/apimctl/ops"
	"github.com/apimctl/apimctl/ops/action"
	"github.com/apimctl/apimctl/ops/live"
	"github.com/apimctl/apimctl/ops/model"
	"github.com/apimctl/apimctl/ops/rollout"
)

// Factory holds a command's dependencies. The functions are lazy: they read the persistent
// flags (Targets, ReadOnly) when called, after cobra parsed them.
type Factory struct {
	IOStreams *iostreams.IOStreams
	Getenv    func(string) string
	Now       func() time.Time

	// Version and Commit of this build.
	Version, Commit string

	// Targets and ReadOnly are the persistent flags. Contexts are every --context given:
	// the first is Targets.Context, the others are the further sites of a multi-site view.
	Targets  live.Targets
	Contexts []string
	ReadOnly bool
	// Config is the user's config file, read before any command runs.
	Config Config

	// Connect resolves the kube context and the targets (once per process).
	Connect func(ctx context.Context) (*live.Connection, error)
	// Observe starts the live model and returns it once every source answered (or timeout
	// passed); it stops when ctx ends.
	Observe func(ctx context.Context, timeout time.Duration) (Observation, error)
	// Sites observes every site of Contexts (each with its own connection) and returns them
	// once every source of each answered or timeout passed.
	Sites func(ctx context.Context, timeout time.Duration) ([]Site, error)
	// Backups lists the complete backups of the default location, for the sites' comparison.
	Backups func() ([]model.BackupRef, error)
	// Runner is the one action runner, set up with read-only mode, the RBAC reviewer of the
	// connection (when there is one), the audit log and the terminal's confirmation.
	Runner func(ctx context.Context) (*action.Runner, error)
	// Rollouts drives the Deployments of a namespace.
	Rollouts func(ctx context.Context, namespace string) (*rollout.Rollouts, error)
	// Console runs the terminal UI until the user quits.
	Console func(ctx context.Context) error
}

// Observation is what a read command sees: the live model's snapshot, with the connection
// behind it.
type Observation interface {
	Snapshot() model.Snapshot
}

// Live is an Observation of the live model with its connection.
type Live struct {
	*live.Live
	Conn *live.Connection
}

// Site is one observed site of a multi-site view.
type Site struct {
	Context string
	Obs     Observation
	Conn    *live.Connection
}

// ConsoleActions is what the TUI is given to change things (its runner refuses every change
// in read-only mode).
type ConsoleActions = *ops.Console
