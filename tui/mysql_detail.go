package tui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/apimctl/apimctl/internal/format"
	"github.com/apimctl/apimctl/ops/model"
)

// mysqlDetail is the metrics database drilled into: its connections, the longest-running
// statements first, and its tables by size.
type mysqlDetail struct {
	loader
	name string
	d    *model.MySQLDetail
}

func newMySQLDetail(c *common, ins MySQLInspector, ref model.Ref) *mysqlDetail {
	v := &mysqlDetail{name: ref.Name}
	if v.name == "" {
		v.name = "metrics database"
	}
	v.loader = newLoader(c, func(ctx context.Context) (any, error) { return ins.MySQL(ctx) })
	v.self = v
	return v
}

func (v *mysqlDetail) Name() string     { return "mysql detail" }
func (v *mysqlDetail) Crumb() string    { return v.name }
func (v *mysqlDetail) SetSize(w, h int) { v.setSize(w, h); v.rebuild() }
func (v *mysqlDetail) View() string     { return v.view("MySQL "+v.name, "", v.d != nil) }

func (v *mysqlDetail) Loaded(msg detailMsg) tea.Cmd {
	return loaded(&v.loader, msg, &v.d, v.rebuild)
}

// fmtSeconds is a process-list time: "12s", "4m 3s", "2h 1m".
func fmtSeconds(d time.Duration) string {
	s := int64(d / time.Second)
	switch {
	case s >= 3600:
		return fmt.Sprintf("%dh %dm", s/3600, s%3600/60)
	case s >= 60:
		return fmt.Sprintf("%dm %ds", s/60, s%60)
	}
	return fmt.Sprintf("%ds", s)
}

func (v *mysqlDetail) rebuild() {
	if v.d == nil || v.width == 0 {
		return
	}
	st := &v.c.styles
	d := v.d
	m := &d.State
	w := v.width
	lines := v.reloadFailed() // a reload that failed leaves the last data, with why
	tls, tt := tlsStatus(m)
	role := st.Muted.Render("primary")
	if m.Replica != nil {
		rs, rt := replicaStatus(m.Replica)
		role = st.status(rt, rs)
	}
	lines = append(lines, "  "+st.status(toneOK, "reachable")+"  "+orDash(m.Version)+st.Label.Render("  uptime ")+fmtUptime(m.Uptime)+
		st.Label.Render("  conns ")+st.paint(connTone(m), fmt.Sprintf("%d/%d", m.ThreadsConnected, m.MaxConnections))+
		"  "+st.status(tt, tls)+"  "+role+st.Label.Render("  size ")+format.Bytes(m.DatabaseSizeBytes))
	if r := m.Replica; r != nil && r.LastError != "" {
		lines = append(lines, "  "+st.Bad.Render("✗ replication: "+r.LastError))
	}

	running := 0
	for _, c := range d.Connections {
		if c.Running() {
			running++
		}
	}
	lines = append(lines, "", st.PanelTitle.Render("Connections")+st.Muted.Render(fmt.Sprintf("  %d, %d running a statement · running first, longest first", len(d.Connections), running)))
	if len(d.Connections) == 0 {
		lines = append(lines, "  "+st.Muted.Render("none visible (without the PROCESS privilege a user sees only its own)"))
	} else {
		// A narrow terminal keeps the statement: host, database and state go.
		wide := w >= 120
		heads := []string{"ID", "USER", "COMMAND", "TIME", "STATEMENT"}
		if wide {
			heads = []string{"ID", "USER", "HOST", "DB", "COMMAND", "TIME", "STATE", "STATEMENT"}
		}
		var rows [][]cell
		for _, c := range d.Connections {
			t := toneMuted
			if c.Running() {
				t = toneNone
				if c.Time >= 10*time.Second {
					t = toneWarn
				}
			}
			id, stmt := cell{text: strconv.FormatInt(c.ID, 10), tone: toneMuted}, cell{text: strings.TrimSpace(c.Info)}
			if wide {
				rows = append(rows, []cell{id, {text: c.User}, {text: c.Host, tone: toneMuted}, {text: orDash(c.DB)},
					{text: c.Command, tone: t}, {text: fmtSeconds(c.Time), tone: t}, {text: orDash(c.State), tone: toneMuted}, stmt})
			} else {
				rows = append(rows, []cell{id, {text: c.User}, {text: c.Command, tone: t}, {text: fmtSeconds(c.Time), tone: t}, stmt})
			}
		}
		lines = append(lines, grid(st, 2, w, heads, rows)...)
	}
	var tables [][]cell
	for _, t := range d.Tables {
		tables = append(tables, []cell{{text: t.Name}, {text: strconv.FormatInt(t.Rows, 10)}, {text: format.Bytes(t.DataBytes)}, {text: format.Bytes(t.IndexBytes), tone: toneMuted}})
	}
	lines = append(lines, gridSection(st, w, st.PanelTitle.Render("Tables")+st.Muted.Render("  largest first, sizes as the server estimates them"),
		[]string{"TABLE", "ROWS", "DATA", "INDEXES"}, tables, st.Muted.Render("no table"))...)
	if len(d.Problems) > 0 {
		lines = append(lines, "", st.PanelTitle.Render("Not read"))
		for _, p := range d.Problems {
			lines = append(lines, "  "+st.Warn.Render("! "+p))
		}
	}
	v.pager.SetLines(lines)
}
