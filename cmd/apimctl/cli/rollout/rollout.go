package rollout

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	"github.com/apimctl/apimctl/cmd/apimctl/cli/status"
	"github.com/apimctl/apimctl/ops/model"
	opsrollout "github.com/apimctl/apimctl/ops/rollout"
)

const rolloutLong = `Rollouts of the gateways' images, watched to the end.

set-image rolls a gateway Deployment (the traffic gateways of GROUP by default; --role apimgr
or anm for the others) to a new image or tag:
  1. preflight: the live checks of 'apimctl check' — an error-level finding, a rollout still in
     progress, a paused Deployment or an image the registry does not have stops it here
     (--force overrides the findings);
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
Every change, dry run, refusal and outcome is written to the audit log.

Exit codes: 0 complete (or the dry run), 1 error, 2 bad input or confirmation needed,
3 blocked by a preflight finding, 4 not permitted (RBAC or --read-only), 5 rolled back or
cancelled.`

// NewCmdRollout is the rollout group.
func NewCmdRollout(f *cmdutil.Factory) *cobra.Command {
	cmd := cmdutil.Group(&cobra.Command{
		Use:   "rollout",
		Short: "Roll gateways to a new image with preflight, metric gate and automatic rollback; history, undo, pause, resume, restart",
		Long:  rolloutLong,
	})
	cmd.AddCommand(NewCmdSetImage(f, nil), NewCmdStatus(f, nil), NewCmdHistory(f, nil), NewCmdUndo(f, nil),
		NewCmdSimple(f, opsrollout.VerbPause, "Pause the Deployment's rollouts (changes to it wait until resume)", nil),
		NewCmdSimple(f, opsrollout.VerbResume, "Resume a paused Deployment", nil),
		NewCmdSimple(f, opsrollout.VerbRestart, "Replace every pod of the Deployment, one at a time as its strategy says", nil))
	return cmd
}

// Target says which Deployment a rollout command acts on, and how its output looks.
type Target struct {
	Group  string
	Role   string
	Output string
}

func (t *Target) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&t.Role, "role", model.RoleTraffic, "which Deployment of the group: traffic, apimgr or anm")
	cmdutil.AddOutputFlag(cmd, &t.Output)
}

func (t *Target) validate() error {
	switch t.Role {
	case model.RoleTraffic, model.RoleAPIManager, model.RoleANM:
	default:
		return cmdutil.Usagef("--role %q: traffic, apimgr or anm", t.Role)
	}
	return cmdutil.ValidateOutput(t.Output)
}

// Mutation are the flags every changing rollout command has.
type Mutation struct {
	cmdutil.Mutation
	Timeout time.Duration
}

func (m *Mutation) addFlags(cmd *cobra.Command) {
	m.AddFlags(cmd, "show the plan and let the API server validate it; change nothing")
	cmd.Flags().DurationVar(&m.Timeout, "timeout", 10*time.Minute, "how long the rollout may take before it counts as failed")
}

func (m *Mutation) validate() error {
	if m.Timeout <= 0 {
		return cmdutil.Usagef("--timeout %s: must be positive", m.Timeout)
	}
	return nil
}

// env is what every rollout command starts from: the live snapshot, the workload and the
// Rollouts of its namespace.
type env struct {
	snap     model.Snapshot
	w        *model.Workload
	rollouts *opsrollout.Rollouts
	cancel   context.CancelFunc
}

func load(ctx context.Context, f *cmdutil.Factory, t Target) (*env, error) {
	ctx, cancel := context.WithCancel(ctx)
	obs, err := f.Observe(ctx, status.DefaultTimeout)
	if err != nil {
		cancel()
		return nil, err
	}
	s := obs.Snapshot()
	if !s.Source(model.SourceKube).Synced {
		cancel()
		return nil, status.NotReadable(s)
	}
	w, err := model.FindWorkload(s.Topology, t.Role, t.Group)
	if err != nil {
		cancel()
		return nil, cmdutil.Usagef("%v", err)
	}
	r, err := f.Rollouts(ctx, w.Namespace)
	if err != nil {
		cancel()
		return nil, err
	}
	return &env{snap: s, w: w, rollouts: r, cancel: cancel}, nil
}

func options(f *cmdutil.Factory, m Mutation) opsrollout.RolloutOptions {
	return opsrollout.RolloutOptions{Timeout: m.Timeout}
}

func orDashRev(s string) string {
	if s == "" {
		return "-"
	}
	return fmt.Sprint(s)
}
