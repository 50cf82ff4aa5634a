package lab

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	"github.com/apimctl/apimctl/lab"
	"github.com/apimctl/apimctl/lab/traffic"
	"github.com/apimctl/apimctl/ops/action"
)

// The fault drills: stop a component, scale a synthetic workload, send traffic, mark an image
// tag faulty.

// StopOptions are stop's flags.
type StopOptions struct {
	StateDir, Component string
	Yes, DryRun         bool
}

// NewCmdStop is `apimctl lab stop COMPONENT`.
func NewCmdStop(f *cmdutil.Factory, stateDir *string, runF func(context.Context, *StopOptions) error) *cobra.Command {
	o := &StopOptions{}
	cmd := &cobra.Command{
		Use:   "stop COMPONENT",
		Short: "Stop one lab process (e.g. cassandra-2) for a fault drill; 'lab up' starts it again",
		Args:  cmdutil.ExactArgs(1),
		RunE: cmdutil.Run(o, func(cmd *cobra.Command, args []string) error {
			o.StateDir, o.Component = *stateDir, args[0]
			return nil
		}, runF, withLab(f, stateDir, stopRun)),
	}
	cmd.Flags().BoolVarP(&o.Yes, "yes", "y", false, "do not ask for confirmation")
	cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "print what would be stopped")
	return cmd
}

func stopRun(ctx context.Context, f *cmdutil.Factory, l *lab.Lab, o *StopOptions) error {
	pids, _ := l.PIDs()
	pid, ok := pids[o.Component]
	if !ok {
		return cmdutil.Usagef("no running lab component %q: one of %s", o.Component, componentNames(pids))
	}
	if o.DryRun {
		fmt.Fprintf(f.IOStreams.Out, "would stop %s (pid %d)\n", o.Component, pid)
		return nil
	}
	act := labAction("stop", o.StateDir, o.Component, "stop "+o.Component, map[string]string{"pid": fmt.Sprint(pid)},
		func(ctx context.Context, _ func(string)) error { return l.Stop(ctx, o.Component) })
	act.Question = fmt.Sprintf("Stop %s (pid %d)?", o.Component, pid)
	if _, _, err := cmdutil.Act(ctx, f, act, action.Mode{Yes: o.Yes}); err != nil {
		return err
	}
	again := "apimctl lab up"
	if o.Component == "traffic" {
		again = "apimctl lab traffic --background"
	}
	fmt.Fprintf(f.IOStreams.ErrOut, "stopped %s (pid %d); start it again with: %s\n", o.Component, pid, again)
	return nil
}

// ScaleOptions are scale's flags.
type ScaleOptions struct {
	StateDir string
	Pods     int
	DryRun   bool
}

// NewCmdScale is `apimctl lab scale --pods N`.
func NewCmdScale(f *cmdutil.Factory, stateDir *string, runF func(context.Context, *ScaleOptions) error) *cobra.Command {
	o := &ScaleOptions{}
	cmd := &cobra.Command{
		Use:   "scale --pods N",
		Short: "Create a large synthetic workload (kwok pods) to try the console at scale; --pods 0 removes it",
		Example: `  apimctl lab scale --pods 10000
  apimctl lab scale --pods 0`,
		Args: cmdutil.NoArgs,
		RunE: cmdutil.Run(o, func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("pods") {
				return cmdutil.Usagef("say how many pods: --pods N (0 removes the workload)")
			}
			if o.Pods < 0 || o.Pods > 50000 {
				return cmdutil.Usagef("--pods %d out of range: 0..50000", o.Pods)
			}
			o.StateDir = *stateDir
			return nil
		}, runF, withLab(f, stateDir, scaleRun)),
	}
	cmd.Flags().IntVar(&o.Pods, "pods", 0, "number of synthetic pods (0 removes them)")
	cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "print what would change")
	addYes(cmd)
	return cmd
}

func scaleRun(ctx context.Context, f *cmdutil.Factory, l *lab.Lab, o *ScaleOptions) error {
	ios := f.IOStreams
	lo := l.Options()
	if o.DryRun {
		fmt.Fprintf(ios.Out, "would scale deployment scale in namespace %s to %d pods on %d scalepool nodes\n", lo.Namespace, o.Pods, (o.Pods+499)/500)
		return nil
	}
	lo.Progress = func(format string, a ...any) { fmt.Fprintf(ios.ErrOut, format+"\n", a...) }
	l, err := lab.New(lo)
	if err != nil {
		return err
	}
	act := labAction("scale", o.StateDir, lo.Namespace+"/scale", fmt.Sprintf("scale the synthetic workload to %d pods", o.Pods),
		map[string]string{"pods": fmt.Sprint(o.Pods)}, func(ctx context.Context, _ func(string)) error { return l.Scale(ctx, o.Pods) })
	return actUnasked(ctx, f, act)
}

// TrafficOptions are traffic's flags.
type TrafficOptions struct {
	StateDir   string
	RPS        int
	Duration   time.Duration
	Background bool
}

// NewCmdTraffic is `apimctl lab traffic --rps N --duration D`.
func NewCmdTraffic(f *cmdutil.Factory, stateDir *string, runF func(context.Context, *TrafficOptions) error) *cobra.Command {
	o := &TrafficOptions{}
	cmd := &cobra.Command{
		Use:   "traffic --rps N --duration D",
		Short: "Send API traffic (API keys and OAuth tokens from the API Manager) to the lab's ready traffic pods",
		Long: `Sends GET requests to the catalog, orders (API key) and payments (OAuth) APIs, with 1 KB to
100 KB responses from the lab backend, at a fixed rate. The lab's Services have no endpoints
(the API server refuses loopback addresses in EndpointSlices), so the generator sends to the
Ready, non-terminating pods that the traffic Service selects. Prints progress every 5 s and a
summary by status. With --background it runs as a lab component ('lab down' stops it).`,
		Example: `  apimctl lab traffic --rps 100 --duration 1m
  apimctl lab traffic --rps 50 --duration 30m --background`,
		Args: cmdutil.NoArgs,
		RunE: cmdutil.Run(o, func(cmd *cobra.Command, args []string) error {
			o.StateDir = *stateDir
			return nil
		}, runF, withLab(f, stateDir, trafficRun)),
	}
	cmd.Flags().IntVar(&o.RPS, "rps", 50, fmt.Sprintf("requests per second (1..%d)", traffic.MaxRPS))
	cmd.Flags().DurationVar(&o.Duration, "duration", time.Minute, fmt.Sprintf("how long (at most %s)", traffic.MaxDuration))
	cmd.Flags().BoolVar(&o.Background, "background", false, "run as a lab component and return at once")
	addYes(cmd)
	return cmd
}

func trafficRun(ctx context.Context, f *cmdutil.Factory, l *lab.Lab, o *TrafficOptions) error {
	ios := f.IOStreams
	to, err := l.TrafficOptions(o.RPS, o.Duration)
	if err != nil {
		return err
	}
	if err := to.Validate(); err != nil {
		return cmdutil.Usagef("%v", err)
	}
	var summary *traffic.Summary
	act := labAction("traffic", o.StateDir, "traffic", fmt.Sprintf("send %d req/s for %s", o.RPS, o.Duration),
		map[string]string{"rps": fmt.Sprint(o.RPS), "duration": o.Duration.String(), "background": fmt.Sprint(o.Background)},
		func(ctx context.Context, _ func(string)) error {
			if o.Background {
				pid, logPath, err := l.StartTraffic(o.RPS, o.Duration)
				if err == nil {
					fmt.Fprintf(ios.ErrOut, "traffic generator running in the background (pid %d, %d req/s for %s); log: %s\n", pid, o.RPS, o.Duration, logPath)
				}
				return err
			}
			to.Progress = func(format string, a ...any) { fmt.Fprintf(ios.ErrOut, format+"\n", a...) }
			s, err := traffic.Run(ctx, to)
			summary = s
			return err
		})
	if err := actUnasked(ctx, f, act); err != nil {
		return err
	}
	if summary != nil {
		summary.Print(ios.Out)
		if summary.Failed > 0 {
			return cmdutil.Silent(cmdutil.ExitDegraded)
		}
	}
	return nil
}

// FaultOptions are fault's flags.
type FaultOptions struct {
	StateDir, Tag     string
	NeverReady, Clear bool
	ErrorRate         float64
}

// NewCmdFault is `apimctl lab fault --tag TAG ...`.
func NewCmdFault(f *cmdutil.Factory, stateDir *string, runF func(context.Context, *FaultOptions) error) *cobra.Command {
	o := &FaultOptions{}
	cmd := &cobra.Command{
		Use:   "fault --tag TAG [--never-ready] [--error-rate 0.3] [--clear]",
		Short: "Mark a gateway image tag faulty: its processes never become ready, or answer a share of requests with 500",
		Example: `  apimctl lab fault --tag 1.0.2 --never-ready
  apimctl lab fault --tag 1.0.3 --error-rate 0.3
  apimctl lab fault --tag 1.0.2 --clear`,
		Args: cmdutil.NoArgs,
		RunE: cmdutil.Run(o, func(cmd *cobra.Command, args []string) error {
			if o.Tag == "" {
				return cmdutil.Usagef("say which image tag: --tag TAG")
			}
			if !o.Clear && !o.NeverReady && o.ErrorRate == 0 {
				return cmdutil.Usagef("say what fault: --never-ready, --error-rate R, or --clear")
			}
			if o.ErrorRate < 0 || o.ErrorRate > 1 {
				return cmdutil.Usagef("--error-rate %g: between 0 and 1", o.ErrorRate)
			}
			o.StateDir = *stateDir
			return nil
		}, runF, withLab(f, stateDir, faultRun)),
	}
	cmd.Flags().StringVar(&o.Tag, "tag", "", "image tag of the gateway images (e.g. 1.0.2)")
	cmd.Flags().BoolVar(&o.NeverReady, "never-ready", false, "readiness always fails")
	cmd.Flags().Float64Var(&o.ErrorRate, "error-rate", 0, "share of API requests answered 500 (0..1)")
	cmd.Flags().BoolVar(&o.Clear, "clear", false, "remove the fault")
	addYes(cmd)
	return cmd
}

func faultRun(ctx context.Context, f *cmdutil.Factory, l *lab.Lab, o *FaultOptions) error {
	fault := lab.Fault{NeverReady: o.NeverReady, ErrorRate: o.ErrorRate}
	if o.Clear {
		fault = lab.Fault{}
	}
	act := labAction("fault", o.StateDir, "image tag "+o.Tag, "mark image tag "+o.Tag+" faulty",
		map[string]string{"neverReady": fmt.Sprint(fault.NeverReady), "errorRate": fmt.Sprint(fault.ErrorRate)},
		func(context.Context, func(string)) error {
			if err := l.SetFault(o.Tag, fault); err != nil {
				return cmdutil.Usagef("%v", err)
			}
			return nil
		})
	if err := actUnasked(ctx, f, act); err != nil {
		return err
	}
	if o.Clear {
		fmt.Fprintf(f.IOStreams.ErrOut, "image tag %s is healthy again for processes started from now on\n", o.Tag)
	} else {
		fmt.Fprintf(f.IOStreams.ErrOut, "image tag %s is faulty (never ready: %t, error rate: %g) for processes started from now on\n", o.Tag, fault.NeverReady, fault.ErrorRate)
	}
	return nil
}
