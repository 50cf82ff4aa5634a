package tui

import (
	"sort"

	tea "charm.land/bubbletea/v2"

	"github.com/apimctl/apimctl/ops/model"
)

// The command palette (":"): it completes views, resources of the snapshot (pods,
// Deployments, Cassandra nodes, traffic groups) and actions, and runs what is typed.

// paletteActions are the actions ":" runs (the same as their keys).
var paletteActions = []string{"rollout", "backup", "history", "backups", "patch", "jobs", "quit"}

// resourceKinds are the words of a resource command and the ref kind each opens.
var resourceKinds = map[string]string{
	"pod": model.RefPod, "po": model.RefPod, "logs": model.RefLogs, "log": model.RefLogs,
	"deployment": model.RefDeployment, "deploy": model.RefDeployment,
	"node": model.RefCassandra, "cassandra-node": model.RefCassandra,
	"group": model.RefTraffic,
}

// paletteSuggestions are the completions: views, actions, and "pod NAME" for each resource
// the snapshot knows.
func (m *Model) paletteSuggestions() []string {
	out := append(append([]string(nil), viewNames...), paletteActions...)
	if m.snap == nil {
		return out
	}
	s := m.snap
	var res []string
	add := func(w model.Workload) {
		res = append(res, "deployment "+w.Name)
		for _, p := range w.Pods {
			res = append(res, "pod "+p.Name, "logs "+p.Name)
		}
	}
	for _, w := range s.Topology.ANM {
		add(w)
	}
	for _, g := range s.Topology.Groups {
		res = append(res, "group "+g.Name)
		for _, w := range append(append([]model.Workload{}, g.APIManager...), g.Traffic...) {
			add(w)
		}
	}
	for _, n := range s.Cassandra.Nodes {
		res = append(res, "node "+hostOnly(n.Address))
	}
	sort.Strings(res)
	return append(out, res...)
}

// hostOnly is an address without its port.
func hostOnly(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[:i]
		}
	}
	return addr
}

// runPaletteCommand runs an action or opens a resource; ok is false when the words are
// neither (a view name, then).
func (m *Model) runPaletteCommand(fields []string) (tea.Cmd, bool) {
	switch fields[0] {
	case "rollout":
		return m.startRollout(), true
	case "backup":
		return m.startBackup(), true
	case "history":
		return m.openHistory(), true
	case "backups":
		return m.openBackups(), true
	case "patch":
		return m.openPatch(), true
	case "jobs":
		return m.openJobs(), true
	}
	kind, ok := resourceKinds[fields[0]]
	if !ok {
		return nil, false
	}
	if len(fields) < 2 {
		m.message, m.messageErr = ":"+fields[0]+" needs a name (tab completes it)", true
		return nil, true
	}
	ns := ""
	if m.snap != nil {
		ns = m.snap.Namespace
	}
	ref := model.Ref{Kind: kind, Namespace: ns, Name: fields[1]}
	switch kind {
	case model.RefTraffic:
		ref.Group = fields[1]
	case model.RefLogs:
		if len(fields) > 2 {
			ref.Container = fields[2]
		}
	}
	return m.push(ref), true
}
