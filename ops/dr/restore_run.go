package dr

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apimctl/apimctl/backup"
	"github.com/apimctl/apimctl/cluster/cassandra"
	"github.com/apimctl/apimctl/cluster/mysql"
	"github.com/apimctl/apimctl/ops/action"
	"github.com/apimctl/apimctl/ops/live"
)

// Restore carries the plan out. A step an interrupted run finished is skipped; inside a
// step, the engines skip the units they finished. A failure says what of the target is
// restored and what is not.
func Restore(ctx context.Context, conn *live.Connection, p *RestorePlan, o RestoreOptions) ([]RestoreStep, error) {
	say := o.Progress
	if say == nil {
		say = func(string) {}
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Minute
	}
	consistency, err := backup.ParseConsistency(o.Consistency)
	if err != nil {
		return nil, err
	}
	if err := p.begin(time.Now(), p.Backup+" → "+conn.Targets.Context+"/"+p.Namespace); err != nil {
		return nil, err
	}
	if p.Resuming != "" {
		say("resuming: " + p.Resuming)
	}
	var report []RestoreStep
	done := func() []string {
		var out []string
		for _, s := range p.Steps {
			if p.Done[s] {
				out = append(out, s)
			}
		}
		return out
	}
	step := func(name string, f func() (string, error)) error {
		if p.Done[name] {
			report = append(report, RestoreStep{Step: name, Detail: "done by an earlier run", Skipped: true})
			say(name + ": done by an earlier run")
			return nil
		}
		say(name)
		start := time.Now()
		detail, err := f()
		d := time.Since(start)
		if err != nil {
			return partly(name, err, done(), p.Steps)
		}
		report = append(report, RestoreStep{Step: name, Detail: detail, Duration: d, Seconds: d.Round(time.Millisecond).Seconds()})
		p.Done[name] = true
		if err := p.journal.Set(stepKey(name), "done"); err != nil {
			return err
		}
		return nil
	}
	progress := newProgressLines(say)
	t := conn.Targets
	var cl *cassandra.Client
	defer func() {
		if cl != nil {
			cl.Close()
		}
	}()
	for i := range p.Keyspaces {
		k := &p.Keyspaces[i]
		err := step(stepCassandra(*k), func() (string, error) {
			if cl == nil {
				c, err := cassandra.Dial(ctx, cassandra.Target{Hosts: t.CassandraHosts, Port: t.CassandraPort, Username: t.CassandraUser,
					Password: t.CassandraPassword, Timeout: 30 * time.Second})
				if err != nil {
					return "", err
				}
				cl = c
			}
			stmts, err := backup.CassandraSchema(ctx, p.backup, k.From, k.To, o.Replication)
			if err != nil {
				return "", err
			}
			for _, st := range stmts {
				if err := cl.Session().Query(st).WithContext(ctx).Exec(); err != nil {
					return "", fmt.Errorf("%.80s…: %w", st, err)
				}
			}
			k.Rows, err = backup.CassandraRows(ctx, cl.Session(), p.backup, k.From, k.To, backup.CassandraRestoreOptions{
				Merge: o.Merge, Parallel: o.Parallel, Consistency: consistency, Journal: p.journal, Progress: progress.report})
			return fmt.Sprintf("%d statements, %d rows", len(stmts), k.Rows), err
		})
		if err != nil {
			return report, err
		}
	}
	if p.Database != "" {
		err := step(stepMySQL(p.fromDB, p.Database), func() (string, error) {
			addr, _, err := mysql.ParseJDBC(t.MetricsDBURL)
			if err != nil {
				return "", err
			}
			db, err := mysql.Open(mysql.Target{Addr: addr, Database: p.Database, User: t.MetricsDBUser, Password: t.MetricsDBPassword, Timeout: time.Minute})
			if err != nil {
				return "", err
			}
			defer db.Close()
			n, err := backup.MySQLRestore(ctx, db, p.backup, p.fromDB, p.Database, backup.MySQLRestoreOptions{
				Merge: o.Merge, Parallel: o.Parallel, Journal: p.journal, Progress: progress.report})
			return fmt.Sprintf("%d rows", n), err
		})
		if err != nil {
			return report, err
		}
	}
	for i := range p.Files {
		f := &p.Files[i]
		err := step(stepFiles(*f), func() (string, error) {
			n, err := backup.RestoreFiles(ctx, p.backup, f.Set, f.To)
			return fmt.Sprintf("%d files", n), err
		})
		if err != nil {
			return report, err
		}
	}
	if p.objs != nil || p.secrets != nil {
		err := step(stepKube(p.Namespace), func() (string, error) {
			return fmt.Sprintf("%d objects, %d secrets", p.Objects, p.Secrets), applyObjects(ctx, conn, p, o)
		})
		if err != nil {
			return report, err
		}
		err = step(stepWait, func() (string, error) {
			return waitWorkloads(ctx, conn.Kube.Clientset, p.Namespace, o.Timeout, o.StuckAfter, say)
		})
		if err != nil {
			return report, err
		}
	}
	if err := p.journal.Set(keyState, stateDone); err != nil {
		return report, err
	}
	return report, nil
}

func keyspaceSteps(p *RestorePlan) []string {
	var out []string
	for _, k := range p.Keyspaces {
		out = append(out, stepCassandra(k))
	}
	return out
}

func allDone(p *RestorePlan, steps []string) bool {
	for _, s := range steps {
		if !p.Done[s] {
			return false
		}
	}
	return true
}

// partly is a failed step's error: what of the target is restored and what is not, and
// that running the same restore again resumes it.
func partly(step string, err error, done, all []string) error {
	var not []string
	for _, s := range all {
		isDone := false
		for _, d := range done {
			isDone = isDone || d == s
		}
		switch {
		case isDone:
		case s == step:
			not = append(not, s+" (stopped midway)")
		default:
			not = append(not, s)
		}
	}
	msg := "no step is finished yet"
	if len(done) > 0 {
		msg = "the target is partly restored: done " + strings.Join(done, "; ")
	}
	return fmt.Errorf("%s: %w — %s; not done: %s (the steps before it are kept; run the restore again to resume)", step, err, msg, strings.Join(not, "; "))
}

// validateTargets checks, before anything changes, that the data stores the restore writes
// to answer and that the target database exists (MySQLRestore does not create it).
func validateTargets(ctx context.Context, conn *live.Connection, p *RestorePlan) error {
	t := conn.Targets
	if len(p.Keyspaces) > 0 && !allDone(p, keyspaceSteps(p)) {
		if len(t.CassandraHosts) == 0 {
			return errors.New("no Cassandra to restore the keyspaces into: CASS_HOST (or --only without cassandra)")
		}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		cl, err := cassandra.Dial(cctx, cassandra.Target{Hosts: t.CassandraHosts, Port: t.CassandraPort, Username: t.CassandraUser,
			Password: t.CassandraPassword, Timeout: 10 * time.Second})
		cancel()
		if err != nil {
			return action.Failed(fmt.Errorf("cassandra: %w; nothing restored", err), "check CASS_HOST/CASS_PORT and that the cluster answers")
		}
		cl.Close()
	}
	if p.Database != "" && !p.Done[stepMySQL(p.fromDB, p.Database)] {
		if t.MetricsDBURL == "" {
			return errors.New("no MySQL server to restore the database into: METRICS_DB_URL (or the metrics-db-credentials Secret), or --only without mysql")
		}
		addr, _, err := mysql.ParseJDBC(t.MetricsDBURL)
		if err != nil {
			return err
		}
		// Connected without a database: a missing one is then an answer, not a refusal.
		db, err := mysql.Open(mysql.Target{Addr: addr, User: t.MetricsDBUser, Password: t.MetricsDBPassword, Timeout: 10 * time.Second})
		if err != nil {
			return action.Failed(fmt.Errorf("mysql %s: %w; nothing restored", addr, err), "")
		}
		defer db.Close()
		var n int
		err = db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", p.Database).Scan(&n)
		switch {
		case err != nil:
			return action.Failed(fmt.Errorf("mysql %s: %w; nothing restored", addr, err), "check METRICS_DB_URL and the user's password")
		case n == 0:
			return fmt.Errorf("target database %s does not exist on %s (or the user may not see it): create it and grant the user on it, or choose another with --database; nothing restored", p.Database, addr)
		}
	}
	return nil
}
