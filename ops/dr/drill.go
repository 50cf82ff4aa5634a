package dr

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apimctl/apimctl/cluster/cassandra"
	"github.com/apimctl/apimctl/cluster/mysql"
	"github.com/apimctl/apimctl/cluster/registry"
	"github.com/apimctl/apimctl/ops/action"
	"github.com/apimctl/apimctl/ops/live"
)

// A DR drill: the newest backup restored into a second target (another cluster, or another
// namespace with other keyspace and database names), the images copied to the DR registry,
// then smoke traffic proving the DR side would serve. Every step is timed; the drill passes
// only when the smoke test does.

// DrillOptions are a drill's target and smoke test. The embedded restore options say where
// the backup goes (Namespace defaults to the kube context's own namespace).
type DrillOptions struct {
	RestoreOptions
	// SmokeKeys is the canary's keys file (DefaultSmokeKeys); SmokeURL the DR gateways'
	// base URL (default: the ready pods of Service TrafficService in the namespace).
	SmokeKeys      string
	SmokeURL       string
	TrafficService string
}

// ImageCopy is one image copied to the DR registry.
type ImageCopy struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// DrillPlan is what a drill does.
type DrillPlan struct {
	Context string       `json:"context"`
	Created time.Time    `json:"backupCreated"`
	Restore *RestorePlan `json:"restore"`
	Copies  []ImageCopy  `json:"copies,omitempty"`
	Smoke   string       `json:"smoke"`

	keys *SmokeKeys
}

// DrillStep is one line of the drill's timed report.
type DrillStep struct {
	Step    string  `json:"step"`
	Detail  string  `json:"detail"`
	Seconds float64 `json:"seconds"`
	OK      bool    `json:"ok"`
	Skipped bool    `json:"skipped,omitempty"`
}

// DrillReport is the drill's outcome: each step timed, the total, and whether the smoke
// test passed.
type DrillReport struct {
	Backup  string      `json:"backup"`
	Target  string      `json:"target"`
	Steps   []DrillStep `json:"steps"`
	Seconds float64     `json:"seconds"`
	Passed  bool        `json:"passed"`
}

// ErrSmokeFailed is the drill's error when everything was restored but the smoke test
// failed.
var ErrSmokeFailed = errors.New("the smoke test failed")

// PlanDrill finds the newest complete backup in the location and plans restoring it into
// the connection's cluster: refused outright when the target is the backup's own source.
func PlanDrill(ctx context.Context, conn *live.Connection, o DrillOptions) (*DrillPlan, error) {
	if conn.Kube == nil {
		return nil, action.Failed(fmt.Errorf("no Kubernetes connection: %v", conn.KubeErr), "a drill restores into a cluster: check --kubeconfig/--context")
	}
	keysPath := o.SmokeKeys
	if keysPath == "" {
		keysPath = DefaultSmokeKeys(o.Getenv)
	}
	keys, err := ReadSmokeKeys(keysPath)
	if err != nil {
		return nil, err
	}
	if o.Location == nil {
		return nil, errors.New("no backup location")
	}
	newest, err := Newest(ctx, o.Location)
	if err != nil {
		return nil, ReadError(err)
	}
	if newest == nil {
		return nil, fmt.Errorf("no complete backup in %s to drill with", o.Location)
	}
	if keys.Created.After(newest.Created) {
		return nil, fmt.Errorf("the newest backup %s (%s) was made before the canary's keys (%s): it cannot hold them; take a backup first",
			newest.ID, newest.Created.Format(time.RFC3339), keys.Created.Format(time.RFC3339))
	}
	ro := o.RestoreOptions
	ro.ID = newest.ID
	if ro.Namespace == "" {
		ro.Namespace = conn.Kube.ContextNamespace
	}
	if ro.Namespace == "" {
		return nil, errors.New("no target namespace: give --namespace (the kube context names none)")
	}
	ro.ImagesCopied = len(ro.Registry) > 0
	if !ro.Resume {
		ro.FromStart = true // a drill measures a whole restore
	}
	rp, err := PlanRestore(conn, ro)
	if err != nil {
		return nil, err
	}
	m := rp.manifest
	if err := notTheSource(ctx, conn, rp); err != nil {
		return nil, err
	}
	p := &DrillPlan{Context: conn.Targets.Context, Created: m.Created, Restore: rp, keys: keys,
		Smoke: fmt.Sprintf("GET %s with the key of %s issued before the backup (want 2xx) and one revoked before it (want 401/403); %s answers with the backup's rows",
			keys.Path, keys.App, orDash(rp.Database))}
	seen := map[string]bool{}
	for _, obj := range rp.objs {
		for _, c := range podSpecOf(obj).Containers {
			to := rewriteImage(c.Image, ro.Registry)
			if to != c.Image && !seen[c.Image] {
				seen[c.Image] = true
				p.Copies = append(p.Copies, ImageCopy{From: c.Image, To: to})
			}
		}
	}
	sort.Slice(p.Copies, func(i, j int) bool { return p.Copies[i].From < p.Copies[j].From })
	return p, nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// notTheSource refuses a drill whose target is the backup's own source: the same
// namespace of the same context, a keyspace of the same name in the same Cassandra cluster,
// the same database on the same server. A drill must never overwrite production.
func notTheSource(ctx context.Context, conn *live.Connection, p *RestorePlan) error {
	src, t := p.manifest.Source, conn.Targets
	if (p.objs != nil || p.secrets != nil) && src.Context == t.Context && src.Namespace == p.Namespace {
		return fmt.Errorf("the drill's target is the backup's source (context %s, namespace %s): choose a DR context or --namespace", t.Context, p.Namespace)
	}
	if p.Database != "" && src.MySQL != "" {
		addr, _, _ := mysql.ParseJDBC(t.MetricsDBURL)
		if addr+"/"+p.Database == src.MySQL {
			return fmt.Errorf("the drill would restore over the backup's own database %s: choose another with --database", src.MySQL)
		}
	}
	if len(p.Keyspaces) > 0 && src.Cassandra != "" {
		same := false
		for _, k := range p.Keyspaces {
			same = same || k.From == k.To
		}
		if !same {
			return nil
		}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		cl, err := cassandra.Dial(cctx, cassandra.Target{Hosts: t.CassandraHosts, Port: t.CassandraPort, Username: t.CassandraUser,
			Password: t.CassandraPassword, Timeout: 10 * time.Second})
		if err != nil {
			return action.Failed(fmt.Errorf("cassandra: %w", err), "")
		}
		defer cl.Close()
		id, err := cl.ClusterID(cctx)
		if err != nil {
			return action.Failed(fmt.Errorf("cassandra: %w", err), "")
		}
		if cassandra.SameCluster(id, src.Cassandra) {
			return fmt.Errorf("the drill would restore over the backup's own keyspaces in the same Cassandra cluster (%s): map them with --keyspace-map FROM=TO", id)
		}
	}
	return nil
}

// Fields are the drill's plan as the command line shows it.
func (p *DrillPlan) Fields() []action.Field {
	f := []action.Field{{Key: "drill", Value: fmt.Sprintf("newest backup %s (%s) into %s", p.Restore.Backup, p.Created.Format("2006-01-02 15:04"), p.Context)}}
	for _, c := range p.Copies {
		f = append(f, action.Field{Key: "copy", Value: c.From + " → " + c.To})
	}
	f = append(f, p.Restore.Fields()...)
	f = append(f, action.Field{Key: "smoke", Value: p.Smoke})
	return f
}

// DrillAction is the drill as an action: Result.Value is the DrillReport; the error is
// ErrSmokeFailed (blocked: exit 3) when the smoke test failed.
func DrillAction(conn *live.Connection, p *DrillPlan, o DrillOptions) *action.Action {
	a := RestoreAction(conn, p.Restore, o.RestoreOptions)
	a.Name = "dr.drill"
	a.What = fmt.Sprintf("drill: restore %s into %s/%s and smoke-test it", p.Restore.Backup, conn.Targets.Context, p.Restore.Namespace)
	a.Question = fmt.Sprintf("Restore %s into %s/%s (what is there is overwritten), then send smoke traffic?", p.Restore.Backup, conn.Targets.Context, p.Restore.Namespace)
	a.Plan = p.Fields()
	a.Details["copies"] = fmt.Sprint(len(p.Copies))
	a.Do = func(ctx context.Context, progress func(string)) (action.Result, error) {
		o.Progress = progress
		rep, err := Drill(ctx, conn, p, o)
		res := action.Result{Value: rep, Details: map[string]string{"seconds": fmt.Sprintf("%.1f", rep.Seconds), "passed": fmt.Sprint(rep.Passed)}}
		if errors.Is(err, ErrSmokeFailed) {
			res.Outcome = "smoke-failed"
			err = action.Blocked(err, "the DR side was restored but would not serve: see the failed smoke steps")
		} else if errors.Is(err, context.Canceled) {
			err = action.Aborted(err)
		}
		return res, err
	}
	return a
}

// Drill copies the images, restores, and sends the smoke traffic, timing each step.
func Drill(ctx context.Context, conn *live.Connection, p *DrillPlan, o DrillOptions) (*DrillReport, error) {
	start := time.Now()
	say := o.Progress
	if say == nil {
		say = func(string) {}
	}
	rep := &DrillReport{Backup: p.Restore.Backup, Target: conn.Targets.Context + "/" + p.Restore.Namespace}
	done := func() *DrillReport {
		rep.Seconds = time.Since(start).Round(100 * time.Millisecond).Seconds()
		return rep
	}
	timed := func(name string, f func() (string, error)) error {
		say(name)
		t0 := time.Now()
		detail, err := f()
		st := DrillStep{Step: name, Detail: detail, Seconds: time.Since(t0).Round(100 * time.Millisecond).Seconds(), OK: err == nil}
		if err != nil {
			st.Detail = err.Error()
		}
		rep.Steps = append(rep.Steps, st)
		return err
	}
	if len(p.Copies) > 0 {
		err := timed("copy images", func() (string, error) {
			for _, c := range p.Copies {
				cctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
				d, err := registry.Copy(cctx, c.From, c.To)
				cancel()
				if err != nil {
					return "", fmt.Errorf("copy %s to %s: %w", c.From, c.To, err)
				}
				say(fmt.Sprintf("copied %s → %s (%s)", c.From, c.To, d))
			}
			return fmt.Sprintf("%d images to %s", len(p.Copies), commonPrefix(p.Copies)), nil
		})
		if err != nil {
			return done(), err
		}
	}
	ro := o.RestoreOptions
	ro.Progress = say
	steps, err := Restore(ctx, conn, p.Restore, ro)
	for _, s := range steps {
		rep.Steps = append(rep.Steps, DrillStep{Step: s.Step, Detail: s.Detail, Seconds: s.Seconds, OK: true, Skipped: s.Skipped})
	}
	if err != nil {
		return done(), err
	}

	smokeOK := true
	base := strings.TrimRight(o.SmokeURL, "/")
	if base == "" && conn.Kube != nil {
		svc := o.TrafficService
		if svc == "" {
			svc = "traffic"
		}
		targets, err := serviceTargets(ctx, conn.Kube.Clientset, p.Restore.Namespace, svc)
		if err != nil {
			smokeOK = false
			rep.Steps = append(rep.Steps, DrillStep{Step: "smoke: reach the DR gateways", Detail: err.Error()})
		} else {
			base = "http://" + targets[0]
		}
	}
	if base != "" {
		k := p.keys
		if err := timed("smoke: key issued before the backup is accepted", func() (string, error) {
			code, err := keyAnswer(ctx, base, k, k.Valid, 20*time.Second)
			if err != nil {
				return "", fmt.Errorf("GET %s%s: %w", base, k.Path, err)
			}
			if code/100 != 2 {
				return "", fmt.Errorf("GET %s%s with the valid key answered %d, want 2xx", base, k.Path, code)
			}
			return fmt.Sprintf("GET %s%s → %d", base, k.Path, code), nil
		}); err != nil {
			smokeOK = false
		}
		if err := timed("smoke: key revoked before the backup is refused", func() (string, error) {
			code, err := keyAnswer(ctx, base, k, k.Revoked, 20*time.Second)
			if err != nil {
				return "", fmt.Errorf("GET %s%s: %w", base, k.Path, err)
			}
			if code != 401 && code != 403 {
				return "", fmt.Errorf("GET %s%s with the revoked key answered %d, want 401 or 403", base, k.Path, code)
			}
			return fmt.Sprintf("GET %s%s → %d", base, k.Path, code), nil
		}); err != nil {
			smokeOK = false
		}
	}
	if p.Restore.Database != "" {
		if err := timed("smoke: the metrics database answers", func() (string, error) {
			addr, db, user, pass, err := metricsTarget(ctx, conn, p.Restore)
			if err != nil {
				return "", err
			}
			return metricsAnswer(ctx, addr, db, user, pass, p.Restore.manifest)
		}); err != nil {
			smokeOK = false
		}
	}
	rep.Passed = smokeOK
	if !smokeOK {
		return done(), ErrSmokeFailed
	}
	return done(), nil
}

// metricsTarget is how the DR site's gateways reach the metrics database: its namespace's
// metrics-db-credentials Secret (restored, with the database mapped), else the connection's.
func metricsTarget(ctx context.Context, conn *live.Connection, p *RestorePlan) (addr, database, user, password string, err error) {
	t := conn.Targets
	url, user, password := t.MetricsDBURL, t.MetricsDBUser, t.MetricsDBPassword
	if conn.Kube != nil {
		if s, err := conn.Kube.Clientset.CoreV1().Secrets(p.Namespace).Get(ctx, "metrics-db-credentials", metav1.GetOptions{}); err == nil && len(s.Data["METRICS_DB_URL"]) > 0 {
			url, user, password = string(s.Data["METRICS_DB_URL"]), string(s.Data["METRICS_DB_USERNAME"]), string(s.Data["METRICS_DB_PASS"])
		}
	}
	addr, database, err = mysql.ParseJDBC(url)
	return addr, database, user, password, err
}

func commonPrefix(cs []ImageCopy) string {
	if len(cs) == 0 {
		return ""
	}
	p := cs[0].To
	for _, c := range cs[1:] {
		for !strings.HasPrefix(c.To, p) {
			p = p[:len(p)-1]
		}
	}
	if i := strings.LastIndex(p, "/"); i >= 0 {
		p = p[:i+1]
	}
	return p
}
