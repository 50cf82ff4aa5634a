package factory

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	"github.com/apimctl/apimctl/cmd/apimctl/cli/iostreams"
	"github.com/apimctl/apimctl/ops"
	"github.com/apimctl/apimctl/ops/action"
	"github.com/apimctl/apimctl/ops/dr"
	"github.com/apimctl/apimctl/ops/inspect"
	"github.com/apimctl/apimctl/ops/live"
	"github.com/apimctl/apimctl/ops/model"
	"github.com/apimctl/apimctl/ops/rollout"
	"github.com/apimctl/apimctl/tui"
)

// New returns the Factory of a real run on ios.
func New(ios *iostreams.IOStreams, version, commit string) *cmdutil.Factory {
	f := &cmdutil.Factory{IOStreams: ios, Getenv: os.Getenv, Now: time.Now, Version: version, Commit: commit}
	var once sync.Once
	var conn *live.Connection
	f.Connect = func(ctx context.Context) (*live.Connection, error) {
		once.Do(func() {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			conn = live.Connect(cctx, f.Targets, f.Getenv)
		})
		return conn, nil
	}
	backups := func(ctx context.Context, now time.Time) model.BackupStatus {
		return dr.BackupStatus(ctx, f.Getenv, now)
	}
	f.Observe = func(ctx context.Context, timeout time.Duration) (cmdutil.Observation, error) {
		cctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		c, err := f.Connect(cctx)
		if err != nil {
			return nil, err
		}
		l := live.NewLive(c, live.LiveOptions{ReadOnly: f.ReadOnly, CallTimeout: min(4*time.Second, timeout), Backups: backups})
		l.Start(ctx)
		l.WaitAnswered(cctx)
		return cmdutil.Live{Live: l, Conn: c}, nil
	}
	f.Sites = func(ctx context.Context, timeout time.Duration) ([]cmdutil.Site, error) {
		sites := make([]cmdutil.Site, len(f.Contexts))
		var wg sync.WaitGroup
		for i, kc := range f.Contexts {
			wg.Go(func() {
				cctx, cancel := context.WithTimeout(ctx, timeout)
				defer cancel()
				var c *live.Connection
				if i == 0 {
					c, _ = f.Connect(cctx)
				} else {
					c = live.ConnectSite(cctx, f.Targets.Kubeconfig, kc, f.Targets.Namespace)
				}
				l := live.NewLive(c, live.LiveOptions{ReadOnly: f.ReadOnly, CallTimeout: min(4*time.Second, timeout)})
				l.Start(ctx)
				l.WaitAnswered(cctx)
				sites[i] = cmdutil.Site{Context: kc, Obs: cmdutil.Live{Live: l, Conn: c}, Conn: c}
			})
		}
		wg.Wait()
		return sites, nil
	}
	f.Backups = func() ([]model.BackupRef, error) { return dr.Restorable(dr.DefaultBackupDir(f.Getenv)) }
	f.Runner = func(ctx context.Context) (*action.Runner, error) {
		r := &action.Runner{ReadOnly: f.ReadOnly, Access: &lazyAccess{f: f, ctx: ctx}, Audit: action.FileSink{Path: action.DefaultAuditPath(f.Getenv)},
			Via: "cli", Now: f.Now}
		if ios.CanPrompt() {
			r.Ask = ios.Confirm
		}
		return r, nil
	}
	f.Rollouts = func(ctx context.Context, namespace string) (*rollout.Rollouts, error) {
		c, err := f.Connect(ctx)
		if err != nil {
			return nil, err
		}
		return rollout.RolloutsFor(c, namespace)
	}
	f.Console = func(ctx context.Context) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		c, err := f.Connect(ctx)
		if err != nil {
			return err
		}
		l := live.NewLive(c, live.LiveOptions{ReadOnly: f.ReadOnly, PollInterval: f.Config.RefreshInterval(), Backups: backups})
		l.Start(ctx)
		r := &action.Runner{ReadOnly: f.ReadOnly, Access: c.Access(), Audit: action.FileSink{Path: action.DefaultAuditPath(f.Getenv)}, Via: "console", Now: f.Now}
		// The console gets its actions in read-only mode too: it offers the reads (a
		// rollout's history, verifying a backup) and says why it offers no change; the
		// runner refuses every change anyway.
		ins := inspect.New(c)
		// The pod events' first LIST reads every event from etcd: after the first dashboard.
		go func() { l.WaitAnswered(ctx); ins.Start(ctx) }()
		opts := tui.Options{ReadOnly: f.ReadOnly, AuditLog: action.DefaultAuditPath(f.Getenv), Theme: f.Config.Theme,
			Actions: ops.NewConsole(c, r, f.Getenv), Inspector: ins,
			RecentActions: func(n int) ([]action.Record, error) { return action.Tail(action.DefaultAuditPath(f.Getenv), n) },
			Keyspaces:     [2]string{c.Targets.Keyspace, c.Targets.ThrottleKeyspace}, Backups: f.Backups}
		// Further sites (--context twice, or contexts in the config): each its own live model.
		for _, kc := range f.Contexts[min(1, len(f.Contexts)):] {
			sc := live.ConnectSite(ctx, f.Targets.Kubeconfig, kc, f.Targets.Namespace)
			sl := live.NewLive(sc, live.LiveOptions{ReadOnly: true, PollInterval: f.Config.RefreshInterval()})
			sl.Start(ctx)
			opts.Sites = append(opts.Sites, tui.Site{Context: kc, Feed: sl, Keyspace: sc.Targets.Keyspace, ThrottleKeyspace: sc.Targets.ThrottleKeyspace})
		}
		return tui.Run(ctx, l, opts)
	}
	return f
}

// lazyAccess connects to the cluster only when an action asks a permission (a local action —
// the lab, a backup prune — never does).
type lazyAccess struct {
	f   *cmdutil.Factory
	ctx context.Context
}

func (a *lazyAccess) get() (action.AccessReviewer, error) {
	c, err := a.f.Connect(a.ctx)
	if err != nil {
		return nil, err
	}
	if acc := c.Access(); acc != nil {
		return acc, nil
	}
	return nil, fmt.Errorf("no Kubernetes connection: %w", c.KubeErr)
}

func (a *lazyAccess) Allowed(ctx context.Context, p action.Permission) (bool, error) {
	acc, err := a.get()
	if err != nil {
		return false, err
	}
	return acc.Allowed(ctx, p)
}

func (a *lazyAccess) Identity(ctx context.Context) (string, error) {
	acc, err := a.get()
	if err != nil {
		return "", err
	}
	return acc.Identity(ctx)
}
