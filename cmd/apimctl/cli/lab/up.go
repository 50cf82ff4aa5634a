package lab

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	"github.com/apimctl/apimctl/lab"
)

// UpOptions are up's flags.
type UpOptions struct {
	lab.Options
	DryRun bool
}

// NewCmdUp is `apimctl lab up`.
func NewCmdUp(f *cmdutil.Factory, stateDir *string, runF func(context.Context, *UpOptions) error) *cobra.Command {
	o := &UpOptions{Options: lab.DefaultOptions()}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start the lab (idempotent: running components are left alone)",
		Example: `  apimctl lab up
  apimctl lab up --cassandra-nodes 1          # quicker, lighter
  apimctl lab up --port-base 26000 --state-dir /tmp/lab2`,
		Args: cmdutil.NoArgs,
		RunE: cmdutil.Run(o, func(cmd *cobra.Command, args []string) error {
			o.StateDir = *stateDir
			// A lab that exists keeps what it was started with, unless a flag says otherwise:
			// `lab up` on its state directory must not restart it on the default ports.
			if l, err := lab.Open(o.StateDir); err == nil {
				rec := l.Options()
				fl := cmd.Flags()
				if !fl.Changed("port-base") {
					o.PortBase = rec.PortBase
				}
				if !fl.Changed("cassandra-nodes") {
					o.CassandraNodes = rec.CassandraNodes
				}
				if !fl.Changed("pod-ready-delay") {
					o.PodReadyDelay = rec.PodReadyDelay
				}
			}
			return nil
		}, runF, func(ctx context.Context, o *UpOptions) error {
			return upRun(ctx, f, o)
		}),
	}
	fl := cmd.Flags()
	fl.IntVar(&o.CassandraNodes, "cassandra-nodes", o.CassandraNodes, "Cassandra nodes, 1 to 3 (RF follows, at most 3)")
	fl.IntVar(&o.PortBase, "port-base", o.PortBase, "base of the lab's ports (apiserver = base+443, MariaDB = base+306, …)")
	fl.DurationVar(&o.PodReadyDelay, "pod-ready-delay", o.PodReadyDelay, "how long simulated pods take to become Ready (plus up to as much jitter)")
	fl.StringSliceVar(&o.Components, "only", nil, "start only these component groups: kube, cassandra, mariadb, prometheus, registry")
	fl.StringVar(&o.ToolsDir, "tools-dir", "", "lab/tools of an apimctl checkout, to build the control plane (found from the working directory)")
	fl.BoolVar(&o.DryRun, "dry-run", false, "print what would start, and where, without starting anything")
	addYes(cmd)
	return cmd
}

func upRun(ctx context.Context, f *cmdutil.Factory, o *UpOptions) error {
	ios := f.IOStreams
	o.Progress = func(format string, a ...any) { fmt.Fprintf(ios.ErrOut, format+"\n", a...) }
	l, err := lab.New(o.Options)
	if err != nil {
		return cmdutil.Usagef("%v", err)
	}
	if o.DryRun {
		return plan(ctx, f, l)
	}
	start := f.Now()
	act := labAction("up", o.StateDir, "lab", "start the lab", map[string]string{"portBase": fmt.Sprint(o.PortBase), "cassandraNodes": fmt.Sprint(o.CassandraNodes)},
		func(ctx context.Context, _ func(string)) error { _, err := l.Up(ctx); return err })
	if err := actUnasked(ctx, f, act); err != nil {
		var pe *lab.PortInUseError
		if errors.As(err, &pe) {
			return fmt.Errorf("%w; nothing was started", err)
		}
		return err
	}
	fmt.Fprintf(ios.ErrOut, "\nThe lab is up (%s). Point your shell at it:\n  eval \"$(apimctl lab env)\"\nthen: apimctl status\n",
		f.Now().Sub(start).Round(time.Second))
	return nil
}

// plan is up's dry run: what would start, and where.
func plan(ctx context.Context, f *cmdutil.Factory, l *lab.Lab) error {
	ios := f.IOStreams
	o := l.Options()
	fmt.Fprintf(ios.Out, "lab up would use state directory %s and start:\n", o.StateDir)
	tw := tabwriter.NewWriter(ios.Out, 0, 4, 2, ' ', 0)
	for _, s := range l.Status(ctx) {
		what := "start"
		if s.State != "stopped" {
			what = fmt.Sprintf("already running (pid %d)", s.PID)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Name, s.Addr, what)
	}
	tw.Flush()
	if err := l.Preflight(); err != nil {
		fmt.Fprintf(ios.Out, "and it would fail: %v\n", err)
		return cmdutil.Silent(cmdutil.ExitError)
	}
	return nil
}
