package dr

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/apimctl/apimctl/backup"
	"github.com/apimctl/apimctl/internal/format"
	"github.com/apimctl/apimctl/ops/action"
	"github.com/apimctl/apimctl/ops/live"
)

// The backups and restores as actions for the one runner (ops/action).

// Fields are the backup plan as the command line and the console show it.
func (p *BackupPlan) Fields() []action.Field {
	var f []action.Field
	if p.Includes("kube") {
		f = append(f, action.Field{Key: "namespace", Value: p.Namespace})
	}
	if p.Includes("cassandra") {
		f = append(f, action.Field{Key: "keyspaces", Value: format.OrDash(strings.Join(p.Keyspaces, ", "))})
	}
	if p.Includes("mysql") {
		f = append(f, action.Field{Key: "database", Value: format.OrDash(p.Database)})
	}
	if p.Includes("kube") {
		secrets := action.Field{Key: "secrets", Value: "left out: no --recipient (or $APIMCTL_BACKUP_RECIPIENTS) to encrypt them to", Mark: action.MarkWarn}
		if p.Secrets {
			secrets = action.Field{Key: "secrets", Value: fmt.Sprintf("encrypted to %d recipient(s)", len(p.Recipients)), Mark: action.MarkOK}
		}
		f = append(f, secrets)
	}
	if p.Includes(backup.SetEvents) {
		f = append(f, action.Field{Key: "events", Value: p.EventsDir + " (incremental by file)"})
	}
	if p.Includes(backup.SetPackages) {
		f = append(f, action.Field{Key: "packages", Value: p.PackagesDir + " (.fed, .pol, .env)"})
	}
	if p.Parallel > 0 || p.Consistency != "" {
		c := p.Consistency
		if c == "" {
			c = "QUORUM"
		}
		f = append(f, action.Field{Key: "reads", Value: fmt.Sprintf("%s workers per engine, Cassandra at %s", orDefault(p.Parallel), c)})
	}
	if p.NoCompress {
		f = append(f, action.Field{Key: "stored", Value: "uncompressed (--no-compress)"})
	}
	f = append(f, action.Field{Key: "into", Value: p.Dir})
	if len(p.Only) > 0 {
		f = append(f, action.Field{Key: "only", Value: strings.Join(p.Only, ", ")})
	}
	return f
}

func orDefault(n int) string {
	if n <= 0 {
		return "default"
	}
	return fmt.Sprint(n)
}

// CreateAction writes the planned backup. Its Result.Value is the BackupSummary.
func CreateAction(conn *live.Connection, p *BackupPlan, o BackupOptions) *action.Action {
	needs := []action.Permission{{Group: "apps", Resource: "deployments", Verb: "list", Namespace: p.Namespace}}
	if p.Secrets && p.Includes("kube") {
		needs = append(needs, action.Permission{Resource: "secrets", Verb: "list", Namespace: p.Namespace})
	}
	if !p.Includes("kube") {
		needs = nil
	}
	return &action.Action{
		Name:     "backup.create",
		Scope:    action.Scope{Context: conn.Targets.Context, Namespace: p.Namespace, Keyspaces: p.Keyspaces, Database: p.Database, Location: p.Dir},
		What:     "back up namespace " + p.Namespace,
		Question: fmt.Sprintf("Back up namespace %s into %s now?", p.Namespace, p.Dir),
		Plan:     p.Fields(),
		Details:  map[string]string{"secrets": fmt.Sprint(p.Secrets), "only": strings.Join(p.Only, ",")},
		Needs:    needs,
		Do: func(ctx context.Context, progress func(string)) (action.Result, error) {
			o.Progress = progress
			m, dir, err := CreateBackup(ctx, conn, p, o)
			if err != nil {
				return action.Result{}, err
			}
			s := Summarize(m, dir)
			return action.Result{Value: s, Details: map[string]string{"id": m.ID, "files": fmt.Sprint(s.Files), "bytes": fmt.Sprint(s.Bytes)}}, nil
		},
	}
}

// Summarize is what the front ends show of a finished backup.
func Summarize(m *backup.Manifest, dir string) BackupSummary {
	s := BackupSummary{ID: m.ID, Dir: dir, Files: len(m.Parts), Notes: m.Notes, Manifest: m}
	for _, part := range m.Parts {
		s.Bytes += part.Bytes
		s.Items += part.Items
	}
	return s
}

// PruneAction deletes the backups of drop from root, a directory or a location URL whose
// credentials are in the environment.
func PruneAction(root string, keep int, drop []backup.Summary) *action.Action {
	return pruneAction(root, keep, drop, func(ctx context.Context) (backup.Location, error) { return OpenLocation(ctx, root, nil) })
}

// PruneActionAt deletes the backups of drop from loc (see backup.PrunePlanAt: the backups a
// kept one refers to are never in drop).
func PruneActionAt(loc backup.Location, keep int, drop []backup.Summary) *action.Action {
	return pruneAction(loc.String(), keep, drop, func(context.Context) (backup.Location, error) { return loc, nil })
}

func pruneAction(where string, keep int, drop []backup.Summary, open func(context.Context) (backup.Location, error)) *action.Action {
	var ids []string
	var plan []action.Field
	for _, s := range drop {
		ids = append(ids, s.ID)
		plan = append(plan, action.Field{Key: "delete", Value: fmt.Sprintf("%s (%s, %s)", s.ID, s.Created.Format("2006-01-02 15:04"), format.Bytes(s.Bytes)), Mark: action.MarkWarn})
	}
	sort.Strings(ids)
	return &action.Action{
		Name:     "backup.prune",
		Scope:    action.Scope{Location: where},
		What:     fmt.Sprintf("delete %d backups from %s", len(drop), where),
		Question: fmt.Sprintf("Delete %d backups from %s (keeping the newest %d)?", len(drop), where, keep),
		Plan:     plan,
		Details:  map[string]string{"keep": fmt.Sprint(keep), "delete": strings.Join(ids, ",")},
		Do: func(ctx context.Context, progress func(string)) (action.Result, error) {
			loc, err := open(ctx)
			if err != nil {
				return action.Result{}, err
			}
			for i, s := range drop {
				if err := ctx.Err(); err != nil {
					return action.Result{}, fmt.Errorf("%w (%d of %d deleted)", err, i, len(drop))
				}
				if err := backup.RemoveAt(ctx, loc, s.ID); err != nil {
					return action.Result{}, fmt.Errorf("delete %s: %w (%d of %d deleted)", s.ID, err, i, len(drop))
				}
				progress("deleted " + s.ID)
			}
			return action.Result{}, nil
		},
	}
}

// Fields are the restore plan as the command line and the console show it.
func (p *RestorePlan) Fields() []action.Field {
	where := p.Backup
	if p.Location != "" {
		where += " in " + p.Location
	}
	f := []action.Field{{Key: "backup", Value: where}}
	if slices.Contains(p.Steps, stepKube(p.Namespace)) {
		f = append(f, action.Field{Key: "namespace", Value: p.Namespace})
	}
	mode := "exact: each table emptied, then loaded (rows the backup does not have are gone)"
	if p.Merge {
		mode = "merge: rows loaded over the target's (rows the backup does not have are kept)"
	}
	if len(p.Keyspaces) > 0 || p.Database != "" {
		f = append(f, action.Field{Key: "tables", Value: mode})
	}
	if p.Resuming != "" {
		f = append(f, action.Field{Key: "resume", Value: p.Resuming, Mark: action.MarkOK})
	}
	for _, s := range p.Steps {
		mark, v := action.MarkNone, s
		if p.Done[s] {
			mark, v = action.MarkOK, s+" (done by an earlier run)"
		}
		f = append(f, action.Field{Key: "step", Value: v, Mark: mark})
	}
	for _, l := range p.Lacks {
		f = append(f, action.Field{Key: "lacks", Value: l, Mark: action.MarkBad})
	}
	for _, u := range p.Unchecked {
		f = append(f, action.Field{Key: "unchecked", Value: u, Mark: action.MarkWarn})
	}
	for _, n := range p.Notes {
		f = append(f, action.Field{Key: "note", Value: n, Mark: action.MarkWarn})
	}
	return f
}

// KeyspaceMap is every keyspace of the plan with its target name (the audit record's).
func (p *RestorePlan) KeyspaceMap() map[string]string {
	if len(p.Keyspaces) == 0 {
		return nil
	}
	m := map[string]string{}
	for _, k := range p.Keyspaces {
		m[k.From] = k.To
	}
	return m
}

// RestoreAction restores the plan into the connection's cluster and data stores. Its
// Result.Value is the timed report ([]RestoreStep). What the restored workloads would lack
// blocks it unless o.Force.
func RestoreAction(conn *live.Connection, p *RestorePlan, o RestoreOptions) *action.Action {
	var targets []string
	for _, k := range p.Keyspaces {
		targets = append(targets, k.To)
	}
	var needs []action.Permission
	if p.objs != nil || p.secrets != nil {
		needs = append(needs, action.Permission{Resource: "namespaces", Verb: "get"},
			action.Permission{Resource: "pods", Verb: "list", Namespace: p.Namespace},
			action.Permission{Group: "apps", Resource: "deployments", Verb: "list", Namespace: p.Namespace})
		for _, gvr := range gvrs {
			needs = append(needs, action.Permission{Group: gvr.Group, Resource: gvr.Resource, Verb: "patch", Namespace: p.Namespace})
		}
		sort.Slice(needs, func(i, j int) bool { return needs[i].String() < needs[j].String() })
	}
	files := map[string]string{}
	for _, fm := range p.Files {
		files[fm.Set] = fm.To
	}
	return &action.Action{
		Name: "backup.restore",
		Scope: action.Scope{Context: conn.Targets.Context, Namespace: p.Namespace, Resource: "backup " + p.Backup,
			KeyspaceMap: p.KeyspaceMap(), Keyspaces: targets, Database: p.Database, Location: p.Location},
		What:     fmt.Sprintf("restore %s into %s", p.Backup, p.Namespace),
		Question: fmt.Sprintf("Restore %s into %s (tables and objects of the same name are overwritten)?", p.Backup, p.Namespace),
		Plan:     p.Fields(),
		Details: map[string]string{"backup": p.Backup, "replication": o.Replication, "only": strings.Join(o.Only, ","), "merge": fmt.Sprint(o.Merge),
			"resume": fmt.Sprint(p.Resuming != ""), "events": files["events"], "packages": files["packages"], "journal": p.Journal},
		Needs:       needs,
		Blockers:    p.Lacks,
		Force:       o.Force,
		BlockedHint: "the restored workloads would not run: fix what the plan says they lack (--identity for the Secrets, --registry, the target's node pools), or --force to restore anyway",
		Validate:    func(ctx context.Context) error { return validateTargets(ctx, conn, p) },
		Do: func(ctx context.Context, progress func(string)) (action.Result, error) {
			o.Progress = progress
			report, err := Restore(ctx, conn, p, o)
			if errors.Is(err, context.Canceled) {
				err = action.Aborted(err) // interrupted: exit 5, and the next run resumes
			}
			return action.Result{Value: report}, err
		},
	}
}

// ParsePairs reads FROM=TO values (--keyspace-map, --registry; the console's fields the same
// way): each needs both sides.
func ParsePairs(what string, vals []string) (map[string]string, error) {
	m := map[string]string{}
	for _, v := range vals {
		from, to, ok := strings.Cut(v, "=")
		from, to = strings.TrimSpace(from), strings.TrimSpace(to)
		if !ok || from == "" || to == "" {
			return nil, fmt.Errorf("%s %q: FROM=TO", what, v)
		}
		m[from] = to
	}
	return m, nil
}
