package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/lab"
	"github.com/apimctl/apimctl/lab/traffic"
	"github.com/apimctl/apimctl/ops"
)

func newLabCmd(ios *IOStreams) *cobra.Command {
	var stateDir string
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Run the local lab: a real control plane, Cassandra, MariaDB, Prometheus and a registry on loopback",
		Long: `The lab is a miniature of the reference architecture on this machine, on loopback only:
etcd, kube-apiserver, kube-controller-manager and kube-scheduler (built once from source and
cached), kwok simulating the apimpool (3 nodes, 3 zones) and infrapool node pools, a 3-node
Apache Cassandra with password authentication, MariaDB with the metrics database, Prometheus
and an OCI registry — with the reference topology from deploy/ applied in namespace apim.

Every process has a PID file under the state directory; 'lab down' stops exactly those.`,
	}
	cmd.PersistentFlags().StringVar(&stateDir, "state-dir", lab.DefaultStateDir(), "the lab's state directory ($APIMCTL_LAB_DIR)")
	cmd.AddCommand(newLabUpCmd(ios, &stateDir), newLabDownCmd(ios, &stateDir), newLabStatusCmd(ios, &stateDir),
		newLabEnvCmd(ios, &stateDir), newLabStopCmd(ios, &stateDir), newLabScaleCmd(ios, &stateDir),
		newLabTrafficCmd(ios, &stateDir), newLabFaultCmd(ios, &stateDir))
	return cmd
}

func newLabUpCmd(ios *IOStreams, stateDir *string) *cobra.Command {
	opts := lab.DefaultOptions()
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start the lab (idempotent: running components are left alone)",
		Example: `  apimctl lab up
  apimctl lab up --cassandra-nodes 1          # quicker, lighter
  apimctl lab up --port-base 26000 --state-dir /tmp/lab2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.StateDir = *stateDir
			opts.Progress = func(f string, a ...any) { fmt.Fprintf(ios.ErrOut, f+"\n", a...) }
			l, err := lab.New(opts)
			if err != nil {
				return usageError("%v", err)
			}
			if dryRun {
				return labPlan(cmd.Context(), ios, l)
			}
			start := time.Now()
			env, err := l.Up(cmd.Context())
			rec := ops.AuditRecord{Action: "lab.up", Target: opts.StateDir}
			_ = ops.AuditOutcome(rec, err)
			if err != nil {
				var pe *lab.PortInUseError
				if errors.As(err, &pe) {
					return withCode(ExitError, fmt.Errorf("%w; nothing was started", err))
				}
				return err
			}
			fmt.Fprintf(ios.ErrOut, "\nThe lab is up (%s). Point your shell at it:\n  eval \"$(apimctl lab env)\"\nthen: apimctl status\n",
				time.Since(start).Round(time.Second))
			_ = env
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&opts.CassandraNodes, "cassandra-nodes", opts.CassandraNodes, "Cassandra nodes, 1 to 3 (RF follows, at most 3)")
	f.IntVar(&opts.PortBase, "port-base", opts.PortBase, "base of the lab's ports (apiserver = base+443, MariaDB = base+306, …)")
	f.DurationVar(&opts.PodReadyDelay, "pod-ready-delay", opts.PodReadyDelay, "how long simulated pods take to become Ready (plus up to as much jitter)")
	f.StringSliceVar(&opts.Components, "only", nil, "start only these component groups: kube, cassandra, mariadb, prometheus, registry")
	f.StringVar(&opts.ToolsDir, "tools-dir", "", "lab/tools of an apimctl checkout, to build the control plane (found from the working directory)")
	f.BoolVar(&dryRun, "dry-run", false, "print what would start, and where, without starting anything")
	return cmd
}

func labPlan(ctx context.Context, ios *IOStreams, l *lab.Lab) error {
	o := l.Options()
	fmt.Fprintf(ios.Out, "lab up would use state directory %s and start:\n", o.StateDir)
	st := l.Status(ctx)
	tw := tabwriter.NewWriter(ios.Out, 0, 4, 2, ' ', 0)
	for _, s := range st {
		what := "start"
		if s.State != "stopped" {
			what = "already running (pid " + fmt.Sprint(s.PID) + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Name, s.Addr, what)
	}
	tw.Flush()
	if err := l.Preflight(); err != nil {
		fmt.Fprintf(ios.Out, "and it would fail: %v\n", err)
		return silentExit(ExitError)
	}
	return nil
}

func newLabDownCmd(ios *IOStreams, stateDir *string) *cobra.Command {
	var wipe, yes, dryRun bool
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Stop every lab process by its recorded PID (--wipe also deletes the lab's data)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := lab.Open(*stateDir)
			if err != nil {
				return err
			}
			pids, _ := l.PIDs()
			if dryRun {
				names := make([]string, 0, len(pids))
				for n := range pids {
					names = append(names, n)
				}
				sort.Strings(names)
				for _, n := range names {
					fmt.Fprintf(ios.Out, "would stop %s (pid %d)\n", n, pids[n])
				}
				if wipe {
					fmt.Fprintf(ios.Out, "would delete %s\n", *stateDir)
				}
				return nil
			}
			if wipe && !yes {
				ok, err := ios.Confirm(fmt.Sprintf("Stop the lab and delete all its data in %s?", *stateDir))
				if err != nil {
					return withCode(ExitUsage, err)
				}
				if !ok {
					fmt.Fprintln(ios.ErrOut, "nothing changed")
					return silentExit(ExitAborted)
				}
			}
			stopped, err := l.Down(cmd.Context(), wipe)
			rec := ops.AuditRecord{Action: "lab.down", Target: *stateDir, Outcome: "ok", Details: map[string]string{"wipe": fmt.Sprint(wipe)}}
			if err != nil {
				rec.Outcome, rec.Error = "failed", err.Error()
			}
			_ = ops.Audit(rec)
			for _, s := range stopped {
				fmt.Fprintf(ios.ErrOut, "stopped %s (pid %d)\n", s.Name, s.PID)
			}
			if err != nil {
				return err
			}
			if len(stopped) == 0 {
				fmt.Fprintln(ios.ErrOut, "no lab process was running")
			}
			if wipe {
				fmt.Fprintf(ios.ErrOut, "deleted %s\n", *stateDir)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&wipe, "wipe", false, "also delete the state directory (data, logs, credentials)")
	cmd.Flags().BoolVar(&yes, "yes", false, "do not ask for confirmation")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would be stopped without stopping it")
	return cmd
}

func newLabStatusCmd(ios *IOStreams, stateDir *string) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show every lab component with PID, address, memory and health",
		Long:  "Exit codes: 0 every component healthy, 3 some component stopped or unhealthy, 1 no lab.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateOutput(output); err != nil {
				return err
			}
			l, err := lab.Open(*stateDir)
			if err != nil {
				return err
			}
			st := l.Status(cmd.Context())
			healthy := true
			var rss int64
			for _, s := range st {
				healthy = healthy && s.State == "healthy"
				rss += s.RSSKiB
			}
			if output != "table" {
				if err := writeData(ios.Out, output, map[string]any{"healthy": healthy, "stateDir": *stateDir, "components": st, "rssKiB": rss}); err != nil {
					return err
				}
			} else {
				sty := newStyles(ios.ColorEnabled())
				tw := tabwriter.NewWriter(ios.Out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "COMPONENT\tSTATE\tPID\tADDRESS\tRSS\tDETAIL")
				for _, s := range st {
					state, pid, mem := sty.warn("! "+s.State), fmt.Sprint(s.PID), fmt.Sprintf("%d MiB", s.RSSKiB/1024)
					switch s.State {
					case "healthy":
						state = sty.ok("✓ healthy")
					case "stopped":
						state, pid, mem = sty.bad("✗ stopped"), "-", "-"
					}
					detail := s.Error
					if s.State == "stopped" {
						detail = "start it with: apimctl lab up"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, state, pid, s.Addr, mem, detail)
				}
				tw.Flush()
				fmt.Fprintf(ios.Out, "total resident memory: %d MiB\n", rss/1024)
			}
			if !healthy {
				return silentExit(ExitDegraded)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	return cmd
}

func newLabEnvCmd(ios *IOStreams, stateDir *string) *cobra.Command {
	return &cobra.Command{
		Use:   "env",
		Short: "Print shell exports that point the console (and you) at the lab",
		Long: `Prints export lines for eval: KUBECONFIG, the CASS_* and METRICS_DB_* variables the
gateways read, PROMETHEUS_URL and APIM_REGISTRY. Passwords are not printed: their exports read
them from files (mode 0600) in the lab's state directory.`,
		Example: `  eval "$(apimctl lab env)"`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			env, err := lab.LoadEnv(*stateDir)
			if err != nil {
				return err
			}
			vars := env.Vars()
			secretDir := filepath.Join(*stateDir, "secrets")
			if err := os.MkdirAll(secretDir, 0o700); err != nil {
				return err
			}
			keys := make([]string, 0, len(vars))
			for k := range vars {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if strings.HasSuffix(k, "_PASS") {
					p := filepath.Join(secretDir, k)
					if err := os.WriteFile(p, []byte(vars[k]), 0o600); err != nil {
						return err
					}
					fmt.Fprintf(ios.Out, "export %s=\"$(cat %s)\"\n", k, shellQuote(p))
					continue
				}
				fmt.Fprintf(ios.Out, "export %s=%s\n", k, shellQuote(vars[k]))
			}
			return nil
		},
	}
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func newLabStopCmd(ios *IOStreams, stateDir *string) *cobra.Command {
	var yes, dryRun bool
	cmd := &cobra.Command{
		Use:   "stop COMPONENT",
		Short: "Stop one lab process (e.g. cassandra-2) for a fault drill; 'lab up' starts it again",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := lab.Open(*stateDir)
			if err != nil {
				return err
			}
			pids, _ := l.PIDs()
			pid, ok := pids[args[0]]
			if !ok {
				names := make([]string, 0, len(pids))
				for n := range pids {
					names = append(names, n)
				}
				sort.Strings(names)
				return usageError("no lab component %q: one of %s", args[0], strings.Join(names, ", "))
			}
			if dryRun {
				fmt.Fprintf(ios.Out, "would stop %s (pid %d)\n", args[0], pid)
				return nil
			}
			if !yes {
				ok, err := ios.Confirm(fmt.Sprintf("Stop %s (pid %d)?", args[0], pid))
				if err != nil {
					return withCode(ExitUsage, err)
				}
				if !ok {
					fmt.Fprintln(ios.ErrOut, "nothing changed")
					return silentExit(ExitAborted)
				}
			}
			err = l.Stop(cmd.Context(), args[0])
			rec := ops.AuditRecord{Action: "lab.stop", Target: args[0]}
			_ = ops.AuditOutcome(rec, err)
			if err != nil {
				return err
			}
			again := "apimctl lab up"
			if args[0] == "traffic" {
				again = "apimctl lab traffic --background"
			}
			fmt.Fprintf(ios.ErrOut, "stopped %s (pid %d); start it again with: %s\n", args[0], pid, again)
			return nil
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "do not ask for confirmation")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would be stopped")
	return cmd
}

func newLabScaleCmd(ios *IOStreams, stateDir *string) *cobra.Command {
	var pods int
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "scale --pods N",
		Short: "Create a large synthetic workload (kwok pods) to try the console at scale; --pods 0 removes it",
		Example: `  apimctl lab scale --pods 10000
  apimctl lab scale --pods 0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("pods") {
				return usageError("say how many pods: --pods N (0 removes the workload)")
			}
			if pods < 0 || pods > 50000 {
				return usageError("--pods %d out of range: 0..50000", pods)
			}
			l, err := lab.Open(*stateDir)
			if err != nil {
				return err
			}
			if dryRun {
				fmt.Fprintf(ios.Out, "would scale deployment scale in namespace %s to %d pods on %d scalepool nodes\n",
					l.Options().Namespace, pods, (pods+499)/500)
				return nil
			}
			o := l.Options()
			o.Progress = func(f string, a ...any) { fmt.Fprintf(ios.ErrOut, f+"\n", a...) }
			l, err = lab.New(o)
			if err != nil {
				return err
			}
			err = l.Scale(cmd.Context(), pods)
			rec := ops.AuditRecord{Action: "lab.scale", Target: o.Namespace + "/scale", Outcome: "ok", Details: map[string]string{"pods": fmt.Sprint(pods)}}
			if err != nil {
				rec.Outcome, rec.Error = "failed", err.Error()
			}
			_ = ops.Audit(rec)
			return err
		},
	}
	cmd.Flags().IntVar(&pods, "pods", 0, "number of synthetic pods (0 removes them)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would change")
	return cmd
}

func newLabTrafficCmd(ios *IOStreams, stateDir *string) *cobra.Command {
	var rps int
	var duration time.Duration
	var background bool
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
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := lab.Open(*stateDir)
			if err != nil {
				return err
			}
			o, err := l.TrafficOptions(rps, duration)
			if err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return usageError("%v", err)
			}
			if background {
				pid, logPath, err := l.StartTraffic(rps, duration)
				if err != nil {
					return err
				}
				fmt.Fprintf(ios.ErrOut, "traffic generator running in the background (pid %d, %d req/s for %s); log: %s\n", pid, rps, duration, logPath)
				return nil
			}
			o.Progress = func(f string, a ...any) { fmt.Fprintf(ios.ErrOut, f+"\n", a...) }
			s, err := traffic.Run(cmd.Context(), o)
			if err != nil {
				return err
			}
			s.Print(ios.Out)
			if s.Failed > 0 {
				return silentExit(ExitDegraded)
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&rps, "rps", 50, fmt.Sprintf("requests per second (1..%d)", traffic.MaxRPS))
	cmd.Flags().DurationVar(&duration, "duration", time.Minute, fmt.Sprintf("how long (at most %s)", traffic.MaxDuration))
	cmd.Flags().BoolVar(&background, "background", false, "run as a lab component and return at once")
	return cmd
}

func newLabFaultCmd(ios *IOStreams, stateDir *string) *cobra.Command {
	var tag string
	var neverReady, clear bool
	var errorRate float64
	cmd := &cobra.Command{
		Use:   "fault --tag TAG [--never-ready] [--error-rate 0.3] [--clear]",
		Short: "Mark a gateway image tag faulty: its processes never become ready, or answer a share of requests with 500",
		Example: `  apimctl lab fault --tag 1.0.2 --never-ready
  apimctl lab fault --tag 1.0.3 --error-rate 0.3
  apimctl lab fault --tag 1.0.2 --clear`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if tag == "" {
				return usageError("say which image tag: --tag TAG")
			}
			if !clear && !neverReady && errorRate == 0 {
				return usageError("say what fault: --never-ready, --error-rate R, or --clear")
			}
			l, err := lab.Open(*stateDir)
			if err != nil {
				return err
			}
			f := lab.Fault{NeverReady: neverReady, ErrorRate: errorRate}
			if clear {
				f = lab.Fault{}
			}
			if err := l.SetFault(tag, f); err != nil {
				return usageError("%v", err)
			}
			_ = ops.Audit(ops.AuditRecord{Action: "lab.fault", Target: tag, Outcome: "ok",
				Details: map[string]string{"neverReady": fmt.Sprint(f.NeverReady), "errorRate": fmt.Sprint(f.ErrorRate)}})
			if clear {
				fmt.Fprintf(ios.ErrOut, "image tag %s is healthy again for processes started from now on\n", tag)
			} else {
				fmt.Fprintf(ios.ErrOut, "image tag %s is faulty (never ready: %t, error rate: %g) for processes started from now on\n", tag, f.NeverReady, f.ErrorRate)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&tag, "tag", "", "image tag of the gateway images (e.g. 1.0.2)")
	cmd.Flags().BoolVar(&neverReady, "never-ready", false, "readiness always fails")
	cmd.Flags().Float64Var(&errorRate, "error-rate", 0, "share of API requests answered 500 (0..1)")
	cmd.Flags().BoolVar(&clear, "clear", false, "remove the fault")
	return cmd
}
