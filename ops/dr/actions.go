package dr

import (
	"context"
	"fmt"
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
	secrets := action.Field{Key: "secrets", Value: "left out: no --recipient (or $APIMCTL_BACKUP_RECIPIENTS) to encrypt them to", Mark: action.MarkWarn}
	if p.Secrets {
		secrets = action.Field{Key: "secrets", Value: fmt.Sprintf("encrypted to %d recipient(s)", len(p.Recipients)), Mark: action.MarkOK}
	}
	f := []action.Field{
		{Key: "namespace", Value: p.Namespace},
		{Key: "keyspaces", Value: format.OrDash(strings.Join(p.Keyspaces, ", "))},
		{Key: "database", Value: format.OrDash(p.Database)},
		secrets,
		{Key: "into", Value: p.Dir},
	}
	if len(p.Only) > 0 {
		f = append(f, action.Field{Key: "only", Value: strings.Join(p.Only, ", ")})
	}
	return f
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

// PruneAction deletes the backups of drop from root (see backup.PrunePlan).
func PruneAction(root string, keep int, drop []backup.Summary) *action.Action {
	var ids []string
	var plan []action.Field
	for _, s := range drop {
		ids = append(ids, s.ID)
		plan = append(plan, action.Field{Key: "delete", Value: fmt.Sprintf("%s (%s, %s)", s.ID, s.Created.Format("2006-01-02 15:04"), format.Bytes(s.Bytes)), Mark: action.MarkWarn})
	}
	sort.Strings(ids)
	return &action.Action{
		Name:     "backup.prune",
		Scope:    action.Scope{Location: root},
		What:     fmt.Sprintf("delete %d backups from %s", len(drop), root),
		Question: fmt.Sprintf("Delete %d backups from %s (keeping the newest %d)?", len(drop), root, keep),
		Plan:     plan,
		Details:  map[string]string{"keep": fmt.Sprint(keep), "delete": strings.Join(ids, ",")},
		Do: func(ctx context.Context, progress func(string)) (action.Result, error) {
			for _, s := range drop {
				if err := ctx.Err(); err != nil {
					return action.Result{}, err
				}
				if err := backup.Remove(root, s); err != nil {
					return action.Result{}, err
				}
				progress("deleted " + s.ID)
			}
			return action.Result{}, nil
		},
	}
}

// Fields are the restore plan as the command line and the console show it.
func (p *RestorePlan) Fields() []action.Field {
	f := []action.Field{{Key: "backup", Value: p.Backup}, {Key: "namespace", Value: p.Namespace}}
	for _, s := range p.Steps {
		mark, v := action.MarkNone, s
		if p.Done[s] {
			mark, v = action.MarkOK, s+" (done by an earlier run)"
		}
		f = append(f, action.Field{Key: "step", Value: v, Mark: mark})
	}
	return f
}

// RestoreAction restores the plan into the connection's cluster and data stores. Its
// Result.Value is the timed report ([]RestoreStep).
func RestoreAction(conn *live.Connection, p *RestorePlan, o RestoreOptions) *action.Action {
	var targets []string
	for _, k := range p.Keyspaces {
		targets = append(targets, k.To)
	}
	var needs []action.Permission
	if p.objs != nil || p.secrets != nil {
		needs = append(needs, action.Permission{Resource: "namespaces", Verb: "get"})
		for _, gvr := range gvrs {
			needs = append(needs, action.Permission{Group: gvr.Group, Resource: gvr.Resource, Verb: "patch", Namespace: p.Namespace})
		}
		sort.Slice(needs, func(i, j int) bool { return needs[i].String() < needs[j].String() })
	}
	return &action.Action{
		Name: "backup.restore",
		Scope: action.Scope{Context: conn.Targets.Context, Namespace: p.Namespace, Resource: "backup " + p.Backup,
			KeyspaceMap: o.KeyspaceMap, Keyspaces: targets, Database: p.Database, Location: o.Dir},
		What:     fmt.Sprintf("restore %s into %s", p.Backup, p.Namespace),
		Question: fmt.Sprintf("Restore %s into %s (tables and objects of the same name are overwritten)?", p.Backup, p.Namespace),
		Plan:     p.Fields(),
		Details:  map[string]string{"backup": p.Backup, "replication": o.Replication, "only": strings.Join(o.Only, ",")},
		Needs:    needs,
		Do: func(ctx context.Context, progress func(string)) (action.Result, error) {
			o.Progress = progress
			report, err := Restore(ctx, conn, p, o)
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
