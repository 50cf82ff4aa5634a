package tui

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/apimctl/apimctl/ops/model"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// cassandraView shows the ring's nodes and each keyspace's replication and QUORUM.
type cassandraView struct {
	sourcePager
	sel int // the chosen node: enter opens it
}

func newCassandraView(c *common) *cassandraView {
	v := &cassandraView{sourcePager: newSourcePager(c, model.SourceCassandra)}
	v.self = v
	return v
}

func (v *cassandraView) Name() string { return "cassandra" }

// Update moves the node cursor with the arrows; the other keys scroll.
func (v *cassandraView) Update(msg tea.KeyPressMsg) tea.Cmd {
	if v.snap != nil && len(v.snap.Cassandra.Nodes) > 0 && v.c.keys.step(msg, &v.sel, len(v.snap.Cassandra.Nodes)) {
		v.rebuild()
		return nil
	}
	v.pager.Update(msg)
	return nil
}

// Selected is the chosen node.
func (v *cassandraView) Selected() (model.Ref, bool) {
	if v.snap == nil || v.sel >= len(v.snap.Cassandra.Nodes) {
		return model.Ref{}, false
	}
	return model.Ref{Kind: model.RefCassandra, Name: v.snap.Cassandra.Nodes[v.sel].Address}, true
}

// nodesUp counts the ring's nodes that are up.
func nodesUp(cs *model.CassandraState) int {
	n := 0
	for _, nd := range cs.Nodes {
		if nd.Up {
			n++
		}
	}
	return n
}

// schemaStatus says whether the up nodes agree on the schema.
func schemaStatus(cs *model.CassandraState) (string, tone) {
	switch {
	case cs.SchemaVersions == 1:
		return "schema agreed", toneOK
	case cs.SchemaVersions > 1:
		return fmt.Sprintf("schema disagreement (%d versions)", cs.SchemaVersions), toneBad
	}
	return "schema unknown", toneMuted
}

// quorumStatus is a keyspace's QUORUM verdict: "QUORUM ok" or "QUORUM LOST".
func quorumStatus(ks *model.KeyspaceState) (string, tone) {
	if ks.QuorumReachable {
		return "QUORUM ok", toneOK
	}
	return "QUORUM LOST", toneBad
}

// sortedKeyspaces puts keyspaces that lost QUORUM first, then by name.
func sortedKeyspaces(kss []model.KeyspaceState) []model.KeyspaceState {
	out := append([]model.KeyspaceState(nil), kss...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].QuorumReachable != out[j].QuorumReachable {
			return !out[i].QuorumReachable
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func (v *cassandraView) rebuild() {
	if v.snap == nil || v.width == 0 {
		return
	}
	st := &v.c.styles
	cs := &v.snap.Cassandra
	w := v.width
	up := nodesUp(cs)
	upTone := toneOK
	if up < len(cs.Nodes) {
		upTone = toneBad
	}
	schema, schTone := schemaStatus(cs)
	lines := []string{
		st.PanelTitle.Render("Nodes") + "  " + st.status(upTone, fmt.Sprintf("%d/%d up", up, len(cs.Nodes))) + "  " + st.status(schTone, schema),
	}
	if len(cs.Nodes) == 0 {
		lines = append(lines, "  "+st.Muted.Render("no nodes known"))
	} else {
		rows := make([][]cell, len(cs.Nodes))
		for i, n := range cs.Nodes {
			status := cell{text: "✓ up", tone: toneOK}
			if !n.Up {
				status = cell{text: "✗ down", tone: toneBad}
			}
			rows[i] = []cell{status, {text: n.Address}, {text: n.DC}, {text: n.Rack}, {text: n.Version}, {text: n.HostID, tone: toneMuted}}
		}
		v.sel = min(v.sel, len(cs.Nodes)-1)
		g := grid(st, 2, w, []string{"STATUS", "ADDRESS", "DC", "RACK", "VERSION", "HOST ID"}, rows)
		g[1+v.sel] = st.Selected.Render(fit("▸"+ansi.Strip(g[1+v.sel])[1:], w))
		lines = append(lines, g...)
	}
	lost := 0
	for _, ks := range cs.Keyspaces {
		if !ks.QuorumReachable {
			lost++
		}
	}
	ksTone, ksWord := toneOK, fmt.Sprintf("QUORUM ok on all %d", len(cs.Keyspaces))
	if lost > 0 {
		ksTone, ksWord = toneBad, fmt.Sprintf("QUORUM LOST on %d of %d", lost, len(cs.Keyspaces))
	}
	lines = append(lines, "", st.PanelTitle.Render("Keyspaces")+"  "+st.status(ksTone, ksWord))
	if len(cs.Keyspaces) == 0 {
		lines = append(lines, "  "+st.Muted.Render("no keyspaces known"))
	} else {
		kss := sortedKeyspaces(cs.Keyspaces)
		rows := make([][]cell, len(kss))
		for i, ks := range kss {
			q, qt := quorumStatus(&ks)
			rows[i] = []cell{
				{text: qt.symbol() + " " + q, tone: qt},
				{text: ks.Name},
				{text: strconv.Itoa(ks.ReplicationFactor)},
				{text: fmt.Sprintf("%d, %d needed", ks.ReplicasUp, ks.Quorum)},
				{text: ks.Strategy, tone: toneMuted},
			}
		}
		lines = append(lines, grid(st, 2, w, []string{"QUORUM", "KEYSPACE", "RF", "REPLICAS UP", "STRATEGY"}, rows)...)
	}
	v.pager.SetLines(lines)
}

func (v *cassandraView) View() string {
	return v.view("Cassandra", "")
}

func (v *cassandraView) ShortHelp() []key.Binding  { return openHelp(v.c.keys, "open").ShortHelp() }
func (v *cassandraView) FullHelp() [][]key.Binding { return openHelp(v.c.keys, "open").FullHelp() }
