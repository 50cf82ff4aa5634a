package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/ops"
)

const rolloutLong = `Rollouts of the gateways' images, watched to the end.

set-image rolls a gateway Deployment (the traffic gateways of GROUP by default; --role apimgr
or anm for the others) to a new image or tag:
  1. preflight: the live checks of 'apimctl check' — an error-level finding, a rollout still in
     progress or a paused Deployment stops it here (--force overrides the findings);
  2. the plan (from → to, replicas, surge), validated by the API server (a server-side dry
     run); --dry-run stops here;
  3. confirmation on a terminal (--yes in scripts; without a terminal and without --yes
     nothing is changed);
  4. the rolling update, watched until every replica runs the new image and is available;
  5. the metric gate: the new pods' 5xx ratio from Prometheus (apigw_requests_total of their
     image tag), during the rollout and for --gate-hold after it, must stay at or below
     --max-error-ratio once --gate-min-requests requests were seen;
  6. when the rollout stalls (progress deadline, --timeout) or fails the gate, the previous
     image is put back and watched until available (--no-rollback to leave it).
Every change, dry run and outcome is written to the audit log.

Exit codes: 0 complete (or the dry run), 1 error, 2 bad input or confirmation needed,
3 blocked by a preflight finding, 4 not permitted (RBAC or --read-only), 5 rolled back or
cancelled.`

type rolloutFlags struct {
	role    string
	output  string
	dryRun  bool
	yes     bool
	timeout time.Duration
}

func (f *rolloutFlags) addCommon(cmd *cobra.Command, mutating bool) {
	cmd.Flags().StringVar(&f.role, "role", ops.RoleTraffic, "which Deployment of the group: traffic, apimgr or anm")
	cmd.Flags().StringVarP(&f.output, "output", "o", "table", "output format: table, json or yaml")
	if mutating {
		cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "show the plan and let the API server validate it; change nothing")
		cmd.Flags().BoolVarP(&f.yes, "yes", "y", false, "do not ask for confirmation (scripts)")
		cmd.Flags().DurationVar(&f.timeout, "timeout", 10*time.Minute, "how long the rollout may take before it counts as failed")
	}
}

func newRolloutCmd(g *globalOptions, ios *IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rollout",
		Short: "Roll gateways to a new image with preflight, metric gate and automatic rollback; history, undo, pause, resume, restart",
		Long:  rolloutLong,
	}
	cmd.AddCommand(newRolloutSetImageCmd(g, ios), newRolloutStatusCmd(g, ios), newRolloutHistoryCmd(g, ios), newRolloutUndoCmd(g, ios),
		newRolloutSimpleCmd(g, ios, "pause", "Pause the Deployment's rollouts (changes to it wait until resume)"),
		newRolloutSimpleCmd(g, ios, "resume", "Resume a paused Deployment"),
		newRolloutSimpleCmd(g, ios, "restart", "Replace every pod of the Deployment, one at a time as its strategy says"))
	return cmd
}

// rolloutEnv is what every rollout command starts from: the live snapshot, the workload and
// a Rollouts for its namespace.
type rolloutEnv struct {
	snap     ops.Snapshot
	conn     *ops.Connection
	w        *ops.Workload
	rollouts *ops.Rollouts
	cancel   context.CancelFunc
}

func loadRollout(ctx context.Context, g *globalOptions, role, group string) (*rolloutEnv, error) {
	live, conn, cancel := observeConn(ctx, g, defaultProbeTimeout)
	s := live.Snapshot()
	if conn.Kube == nil || !s.Source(ops.SourceKube).Synced {
		cancel()
		msg := s.Source(ops.SourceKube).Error
		if conn.KubeErr != nil {
			msg = conn.KubeErr.Error()
		}
		return nil, &exitError{code: ExitError, err: fmt.Errorf("could not read the deployment from Kubernetes: %s", msg),
			hint: "check --kubeconfig/--context (for the lab: eval \"$(apimctl lab env)\")"}
	}
	w, err := ops.FindWorkload(s.Topology, role, group)
	if err != nil {
		cancel()
		return nil, withCode(ExitUsage, err)
	}
	r, err := ops.RolloutsFor(conn, w.Namespace)
	if err != nil {
		cancel()
		return nil, err
	}
	return &rolloutEnv{snap: s, conn: conn, w: w, rollouts: r, cancel: cancel}, nil
}

// permitted refuses a change the identity may not make, before anything is asked.
func permitted(g *globalOptions, s ops.Snapshot, action, what string) error {
	if g.readOnly {
		return withCode(ExitDenied, fmt.Errorf("read-only mode (--read-only): will not %s; nothing changed", what))
	}
	if !s.Access.Can(action) {
		return &exitError{code: ExitDenied, err: fmt.Errorf("%s is not permitted to %s (%s)", orUnknown(s.Identity), what, action),
			hint: "ask for a role that allows it, or use --dry-run to see the plan"}
	}
	return nil
}

func orUnknown(s string) string {
	if s == "" {
		return "this identity"
	}
	return s
}

// confirm asks on a terminal unless --yes; declining cancels with nothing changed.
func confirm(ios *IOStreams, yes bool, question string) error {
	if yes {
		return nil
	}
	ok, err := ios.Confirm(question)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	if !ok {
		fmt.Fprintln(ios.ErrOut, "cancelled: nothing changed")
		return silentExit(ExitAborted)
	}
	return nil
}

func progressPrinter(w io.Writer) func(ops.RolloutStep) {
	return func(s ops.RolloutStep) { fmt.Fprintln(w, s.Line()) }
}

func newRolloutSetImageCmd(g *globalOptions, ios *IOStreams) *cobra.Command {
	f := &rolloutFlags{}
	gate := ops.DefaultGate()
	var force, noGate, noRollback bool
	cmd := &cobra.Command{
		Use:   "set-image GROUP IMAGE|TAG",
		Short: "Roll a gateway group to a new image: preflight, plan, confirm, watch, gate, roll back on failure",
		Long:  rolloutLong,
		Example: `  apimctl rollout set-image default 7.7.20250830 --dry-run
  apimctl rollout set-image default 7.7.20250830
  apimctl rollout set-image default registry.example/apim/gateway:7.7.20250830 --yes -o json
  apimctl rollout set-image - 7.7.20250830 --role anm`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateOutput(f.output); err != nil {
				return err
			}
			if gate.MaxErrorRatio < 0 || gate.MaxErrorRatio > 1 {
				return usageError("--max-error-ratio %g: between 0 and 1", gate.MaxErrorRatio)
			}
			if f.timeout <= 0 {
				return usageError("--timeout must be positive")
			}
			return rolloutSetImage(cmd.Context(), g, ios, f, gate, args[0], args[1], force, !noGate, !noRollback)
		},
	}
	f.addCommon(cmd, true)
	cmd.Flags().BoolVar(&force, "force", false, "roll out despite error-level preflight findings")
	cmd.Flags().BoolVar(&noGate, "no-gate", false, "do not judge the new pods by their error ratio")
	cmd.Flags().BoolVar(&noRollback, "no-rollback", false, "leave a failed rollout as it is")
	cmd.Flags().Float64Var(&gate.MaxErrorRatio, "max-error-ratio", gate.MaxErrorRatio, "gate: highest 5xx ratio of the new pods (0..1)")
	cmd.Flags().Float64Var(&gate.MinRequests, "gate-min-requests", gate.MinRequests, "gate: requests to the new pods needed before the ratio is judged")
	cmd.Flags().DurationVar(&gate.Hold, "gate-hold", gate.Hold, "gate: how long the new pods are watched after the rollout completed")
	cmd.Flags().DurationVar(&gate.Window, "gate-window", gate.Window, "gate: the window of the error ratio")
	return cmd
}

type setImageDoc struct {
	Plan   *ops.RolloutPlan   `json:"plan"`
	DryRun bool               `json:"dryRun"`
	Result *ops.RolloutResult `json:"result,omitempty"`
}

func rolloutSetImage(ctx context.Context, g *globalOptions, ios *IOStreams, f *rolloutFlags, gate ops.Gate, group, image string, force, gateOn, rollback bool) error {
	env, err := loadRollout(ctx, g, f.role, group)
	if err != nil {
		return err
	}
	defer env.cancel()
	plan, err := env.rollouts.PrepareRollout(ctx, env.snap, f.role, group, image)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	if err := permitted(g, env.snap, "deployments/patch", "roll out deployment/"+plan.Deployment); err != nil {
		return err
	}
	printPlan(ios.ErrOut, plan)
	audit := ops.AuditRecord{Action: "rollout.set-image", Target: plan.Namespace + "/deployment/" + plan.Deployment, DryRun: f.dryRun,
		Details: map[string]string{"from": plan.FromImage, "to": plan.ToImage}}
	if len(plan.Blockers) > 0 && !force {
		audit.Outcome, audit.Error = "refused", fmt.Sprintf("%d preflight findings", len(plan.Blockers))
		_ = ops.Audit(audit)
		return &exitError{code: ExitDegraded, err: fmt.Errorf("preflight: %s; nothing changed", counted(len(plan.Blockers), "error-level finding")),
			hint: "fix them first (apimctl check), or --force to roll out regardless"}
	}
	cause := plan.ChangeCause()
	if err := env.rollouts.ValidateSetImage(ctx, plan, cause); err != nil {
		return withCode(ExitUsage, fmt.Errorf("the API server refuses the change: %w", err))
	}
	if f.dryRun {
		_ = ops.AuditOutcome(audit, nil)
		fmt.Fprintln(ios.ErrOut, "dry run: the API server accepts the change; nothing changed")
		if f.output != "table" {
			return writeData(ios.Out, f.output, setImageDoc{Plan: plan, DryRun: true})
		}
		return nil
	}
	if err := confirm(ios, f.yes, fmt.Sprintf("Roll deployment/%s from %s to %s?", plan.Deployment, plan.FromImage, plan.ToImage)); err != nil {
		return err
	}
	o := ops.RolloutOptions{Gate: gate, GateEnabled: gateOn, Timeout: f.timeout, AutoRollback: rollback, ChangeCause: cause,
		Progress: progressPrinter(ios.ErrOut)}
	if gateOn && env.rollouts.Prom == nil {
		fmt.Fprintln(ios.ErrOut, "warning: no Prometheus (PROMETHEUS_URL or --prometheus-url): the metric gate is off")
	}
	res, err := env.rollouts.AuditedSetImage(ctx, plan, o, "cli")
	if f.output != "table" {
		if werr := writeData(ios.Out, f.output, setImageDoc{Plan: plan, Result: &res}); werr != nil {
			return werr
		}
	} else {
		fmt.Fprintf(ios.Out, "%s  deployment/%s runs %s (revision %s) after %s\ngate: %s\n", res.Outcome, plan.Deployment, res.Image,
			res.Revision, res.Duration.Round(time.Second), res.Gate)
		if res.Reason != "" {
			fmt.Fprintf(ios.Out, "reason: %s\n", res.Reason)
		}
	}
	switch {
	case err != nil:
		return err
	case res.Outcome == ops.RolloutRolledBack:
		return silentExit(ExitAborted)
	case res.Outcome == ops.RolloutFailed:
		return withCode(ExitError, errors.New("the rollout failed and was left as it is (--no-rollback)"))
	}
	return nil
}

func printPlan(w io.Writer, p *ops.RolloutPlan) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "deployment\t%s/%s (container %s, revision %s)\n", p.Namespace, p.Deployment, p.Container, p.Revision)
	fmt.Fprintf(tw, "image\t%s → %s\n", p.FromImage, p.ToImage)
	fmt.Fprintf(tw, "registry\t%s\n", p.RegistryAnswer())
	fmt.Fprintf(tw, "replicas\t%d, surge %s, unavailable %s\n", p.Replicas, orDashStr(p.MaxSurge), orDashStr(p.MaxUnavailable))
	if len(p.Blockers) == 0 {
		fmt.Fprintf(tw, "preflight\t✓ no error-level finding\n")
	}
	for i, b := range p.Blockers {
		label := ""
		if i == 0 {
			label = "preflight"
		}
		fmt.Fprintf(tw, "%s\t✗ %s %s: %s\n", label, b.ID, b.Subject, b.Message)
	}
	tw.Flush()
}

func orDashStr(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newRolloutHistoryCmd(g *globalOptions, ios *IOStreams) *cobra.Command {
	f := &rolloutFlags{}
	cmd := &cobra.Command{
		Use:   "history GROUP",
		Short: "The revisions of a gateway Deployment: image, age, change cause",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateOutput(f.output); err != nil {
				return err
			}
			env, err := loadRollout(cmd.Context(), g, f.role, args[0])
			if err != nil {
				return err
			}
			defer env.cancel()
			hist, err := env.rollouts.History(cmd.Context(), env.w.Name)
			if err != nil {
				return err
			}
			if f.output != "table" {
				return writeData(ios.Out, f.output, hist)
			}
			tw := tabwriter.NewWriter(ios.Out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "REVISION\tIMAGE\tAGE\tPODS\tCHANGE CAUSE")
			for _, h := range hist {
				rev := strconv.FormatInt(h.Revision, 10)
				if h.Current {
					rev += " ▸"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", rev, h.Image, strings.TrimSuffix(ago(time.Now(), h.Created), " ago"), h.Replicas, orDashStr(h.ChangeCause))
			}
			return tw.Flush()
		},
	}
	f.addCommon(cmd, false)
	return cmd
}

func newRolloutUndoCmd(g *globalOptions, ios *IOStreams) *cobra.Command {
	f := &rolloutFlags{}
	var to int64
	cmd := &cobra.Command{
		Use:   "undo GROUP",
		Short: "Return a gateway Deployment to its previous revision (or --to-revision), watched until available",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateOutput(f.output); err != nil {
				return err
			}
			if to < 0 {
				return usageError("--to-revision %d: a revision number", to)
			}
			ctx := cmd.Context()
			env, err := loadRollout(ctx, g, f.role, args[0])
			if err != nil {
				return err
			}
			defer env.cancel()
			plan, err := env.rollouts.PlanUndo(ctx, env.w.Name, to)
			if err != nil {
				return withCode(ExitUsage, err)
			}
			if err := permitted(g, env.snap, "deployments/update", "undo deployment/"+plan.Deployment); err != nil {
				return err
			}
			fmt.Fprintf(ios.ErrOut, "deployment/%s: revision %d (%s) → revision %d (%s)\n", plan.Deployment, plan.FromRevision, plan.FromImage, plan.ToRevision, plan.ToImage)
			audit := ops.AuditRecord{Action: "rollout.undo", Target: env.w.Namespace + "/deployment/" + plan.Deployment, DryRun: f.dryRun,
				Details: map[string]string{"fromRevision": fmt.Sprint(plan.FromRevision), "toRevision": fmt.Sprint(plan.ToRevision), "to": plan.ToImage}}
			if f.dryRun {
				if _, err := env.rollouts.Undo(ctx, plan, true); err != nil {
					return withCode(ExitUsage, fmt.Errorf("the API server refuses the change: %w", err))
				}
				_ = ops.AuditOutcome(audit, nil)
				fmt.Fprintln(ios.ErrOut, "dry run: the API server accepts the change; nothing changed")
				return nil
			}
			if err := confirm(ios, f.yes, fmt.Sprintf("Return deployment/%s to revision %d (%s)?", plan.Deployment, plan.ToRevision, plan.ToImage)); err != nil {
				return err
			}
			gen, err := env.rollouts.Undo(ctx, plan, false)
			if err == nil {
				err = env.rollouts.Wait(ctx, plan.Deployment, gen, ops.RolloutOptions{Timeout: f.timeout, Progress: progressPrinter(ios.ErrOut)})
			}
			_ = ops.AuditOutcome(audit, err)
			if err != nil {
				return err
			}
			fmt.Fprintf(ios.Out, "complete  deployment/%s runs %s\n", plan.Deployment, plan.ToImage)
			return nil
		},
	}
	f.addCommon(cmd, true)
	cmd.Flags().Int64Var(&to, "to-revision", 0, "the revision to return to (default: the one before the current)")
	return cmd
}

// newRolloutSimpleCmd: pause, resume, restart.
func newRolloutSimpleCmd(g *globalOptions, ios *IOStreams, verb, short string) *cobra.Command {
	f := &rolloutFlags{}
	cmd := &cobra.Command{
		Use:   verb + " GROUP",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			env, err := loadRollout(ctx, g, f.role, args[0])
			if err != nil {
				return err
			}
			defer env.cancel()
			name := env.w.Name
			switch {
			case verb == "pause" && env.w.Paused:
				return usageError("deployment/%s is already paused", name)
			case verb == "resume" && !env.w.Paused:
				return usageError("deployment/%s is not paused", name)
			}
			if err := permitted(g, env.snap, "deployments/patch", verb+" deployment/"+name); err != nil {
				return err
			}
			do := func(dry bool) (int64, error) {
				switch verb {
				case "pause":
					return env.rollouts.SetPaused(ctx, name, true, dry)
				case "resume":
					return env.rollouts.SetPaused(ctx, name, false, dry)
				}
				return env.rollouts.Restart(ctx, name, time.Now(), dry)
			}
			audit := ops.AuditRecord{Action: "rollout." + verb, Target: env.w.Namespace + "/deployment/" + name, DryRun: f.dryRun}
			if _, err := do(true); err != nil {
				return withCode(ExitUsage, fmt.Errorf("the API server refuses the change: %w", err))
			}
			if f.dryRun {
				_ = ops.AuditOutcome(audit, nil)
				fmt.Fprintf(ios.ErrOut, "dry run: would %s deployment/%s; the API server accepts it; nothing changed\n", verb, name)
				return nil
			}
			if err := confirm(ios, f.yes, fmt.Sprintf("%s deployment/%s?", strings.ToUpper(verb[:1])+verb[1:], name)); err != nil {
				return err
			}
			gen, err := do(false)
			if err == nil && verb == "restart" {
				err = env.rollouts.Wait(ctx, name, gen, ops.RolloutOptions{Timeout: f.timeout, Progress: progressPrinter(ios.ErrOut)})
			}
			_ = ops.AuditOutcome(audit, err)
			if err != nil {
				return err
			}
			fmt.Fprintf(ios.Out, "deployment/%s: %s done\n", name, verb)
			return nil
		},
	}
	f.addCommon(cmd, true)
	return cmd
}

func newRolloutStatusCmd(g *globalOptions, ios *IOStreams) *cobra.Command {
	f := &rolloutFlags{}
	var watch bool
	cmd := &cobra.Command{
		Use:   "status GROUP",
		Short: "Where a gateway Deployment's rollout stands; --watch follows it to the end (whoever started it)",
		Long: `Status prints the Deployment's image, revision and replica counts and whether it has rolled
out its latest change. With --watch it follows the rollout until every replica runs the new
template and is available, or until --timeout (a watch only: no gate, no rollback).

Exit codes: 0 rolled out, 3 still in progress (without --watch) or stalled, 1 error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateOutput(f.output); err != nil {
				return err
			}
			ctx := cmd.Context()
			env, err := loadRollout(ctx, g, f.role, args[0])
			if err != nil {
				return err
			}
			defer env.cancel()
			w := env.w
			fmt.Fprintf(ios.Out, "deployment/%s  %s  revision %s  desired %d  updated %d  ready %d  available %d\n",
				w.Name, w.Image, w.Revision, w.Desired, w.Updated, w.Ready, w.Available)
			if !w.RolloutInProgress {
				fmt.Fprintln(ios.Out, "rolled out")
				return nil
			}
			if !watch {
				fmt.Fprintln(ios.Out, "in progress (--watch follows it)")
				return silentExit(ExitDegraded)
			}
			_, d, err := env.rollouts.Container(ctx, w.Name)
			if err != nil {
				return err
			}
			err = env.rollouts.Wait(ctx, w.Name, d.Generation, ops.RolloutOptions{Timeout: f.timeout, Progress: progressPrinter(ios.ErrOut)})
			if err != nil {
				return withCode(ExitDegraded, err)
			}
			fmt.Fprintln(ios.Out, "rolled out")
			return nil
		},
	}
	f.addCommon(cmd, false)
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "follow the rollout until it completes")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 10*time.Minute, "with --watch, how long to follow it")
	return cmd
}
