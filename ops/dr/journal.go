package dr

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apimctl/apimctl/backup"
	"github.com/apimctl/apimctl/cluster/mysql"
	"github.com/apimctl/apimctl/ops/live"
)

// A restore's journal: one file per restore target, named after everything that defines
// the target — the backup (location and ID), the kube context and namespace, the Cassandra
// contact points and the keyspace map, the MySQL server and database, the file sets'
// directories — so the same restore finds its journal again and a restore anywhere else
// never does. It holds the run's state, the finished steps, and the engines' finished units
// (their own keys: see backup.CassandraRows and backup.MySQLRestore).
const (
	keyState   = "restore/state" // running, finished
	keyStarted = "restore/started"
	keyTarget  = "restore/target"
	stateRun   = "running"
	stateDone  = "finished"
)

func stepKey(step string) string { return "step/" + step }

// restoreTarget is the restore's identity, one "name=value" per part.
func restoreTarget(conn *live.Connection, loc, id, namespace string, moves []KeyspaceMove, database string, o RestoreOptions) []string {
	t := conn.Targets
	hosts := slices.Clone(t.CassandraHosts)
	slices.Sort(hosts)
	var ks []string
	for _, k := range moves {
		ks = append(ks, k.From+"="+k.To)
	}
	addr := ""
	if t.MetricsDBURL != "" {
		addr, _, _ = mysql.ParseJDBC(t.MetricsDBURL)
	}
	abs := func(d string) string {
		if d == "" {
			return ""
		}
		if a, err := filepath.Abs(d); err == nil {
			return a
		}
		return d
	}
	return []string{
		"backup=" + loc + "/" + id,
		"context=" + t.Context,
		"namespace=" + namespace,
		"cassandra=" + strings.Join(hosts, ",") + ":" + strconv.Itoa(t.CassandraPort),
		"keyspaces=" + strings.Join(ks, ","),
		"mysql=" + addr + "/" + database,
		"events=" + abs(o.EventsDir),
		"packages=" + abs(o.PackagesDir),
	}
}

// openJournal finds the restore's journal and decides what the run does with it: resume an
// interrupted run (or, with --resume, refuse when there is none), or start from the start.
func (p *RestorePlan) openJournal(conn *live.Connection, o RestoreOptions, moves []KeyspaceMove, database string) error {
	dir := o.JournalDir
	if dir == "" {
		dir = DefaultJournalDir(o.Getenv)
	}
	target := restoreTarget(conn, p.Location, p.Backup, p.Namespace, moves, database, o)
	p.Journal = filepath.Join(dir, backup.JournalName(target...))
	j, err := backup.OpenJournal(p.Journal)
	if err != nil {
		return err
	}
	p.journal = j
	state := j.Get(keyState)
	switch {
	case o.FromStart:
		return nil
	case o.Resume && state != stateRun:
		what := "no earlier run"
		if state == stateDone {
			what = "its last run finished"
		}
		return fmt.Errorf("--resume: nothing to resume for this restore (%s; journal %s): run it without --resume to restore from the start", what, p.Journal)
	case state != stateRun:
		return nil
	}
	for _, s := range p.Steps {
		if j.Get(stepKey(s)) == "done" {
			p.Done[s] = true
		}
	}
	p.Resuming = "resumes the interrupted run started " + j.Get(keyStarted)
	return nil
}

// begin starts the run in the journal: a resumed run keeps what the interrupted one did,
// any other run forgets the earlier one (a finished restore run again restores again).
func (p *RestorePlan) begin(now time.Time, target string) error {
	if p.journal == nil {
		return errors.New("restore plan without a journal")
	}
	if p.Resuming == "" {
		if err := p.journal.Remove(); err != nil {
			return fmt.Errorf("restore journal: %w", err)
		}
		for k := range p.Done {
			delete(p.Done, k)
		}
		if err := p.journal.Set(keyStarted, now.UTC().Format(time.RFC3339)); err != nil {
			return err
		}
	}
	if err := p.journal.Set(keyTarget, target); err != nil {
		return err
	}
	return p.journal.Set(keyState, stateRun)
}
