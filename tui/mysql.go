package tui

import (
	"fmt"
	"strings"

	"github.com/apimctl/apimctl/internal/format"
	"github.com/apimctl/apimctl/ops/model"

	"charm.land/bubbles/v2/key"
)

// mysqlView shows the metrics database: reachability, version, connections, TLS, replication.
type mysqlView struct {
	sourcePager
}

func newMySQLView(c *common) *mysqlView {
	v := &mysqlView{sourcePager: newSourcePager(c, model.SourceMySQL)}
	v.self = v
	return v
}

func (v *mysqlView) Name() string { return "mysql" }

// connTone judges connections against the server's maximum.
func connTone(m *model.MySQLState) tone {
	if m.MaxConnections <= 0 {
		return toneNone
	}
	r := float64(m.ThreadsConnected) / float64(m.MaxConnections)
	switch {
	case r >= 0.9:
		return toneBad
	case r >= 0.75:
		return toneWarn
	}
	return toneOK
}

// replicaStatus sums up a replica's state ("" for a primary).
func replicaStatus(r *model.ReplicaState) (string, tone) {
	if r == nil {
		return "", toneNone
	}
	if !r.IORunning || !r.SQLRunning {
		return "replication stopped", toneBad
	}
	if r.LagSeconds == nil {
		return "replica lag unknown", toneWarn
	}
	t := toneOK
	if *r.LagSeconds > 30 {
		t = toneWarn
	}
	return fmt.Sprintf("replica lag %ds", *r.LagSeconds), t
}

func tlsStatus(m *model.MySQLState) (string, tone) {
	if !m.TLS {
		return "no TLS", toneWarn
	}
	return "TLS " + orDash(m.TLSVersion), toneOK
}

func running(b bool) string {
	if b {
		return "✓ running"
	}
	return "✗ stopped"
}

func (v *mysqlView) rebuild() {
	if v.snap == nil || v.width == 0 {
		return
	}
	st := &v.c.styles
	m := &v.snap.MySQL
	src := v.snap.Source(model.SourceMySQL)
	if !src.Synced {
		v.pager.SetLines([]string{"  " + st.Muted.Render("no data from the metrics database yet")})
		return
	}
	reach := st.status(toneOK, "reachable")
	if !m.Reachable {
		reach = st.status(toneBad, "unreachable") + st.Muted.Render(" (showing the last data read)")
	}
	tls, tt := tlsStatus(m)
	conns := fmt.Sprintf("%d of max %d", m.ThreadsConnected, m.MaxConnections)
	if m.MaxConnections > 0 {
		frac := float64(m.ThreadsConnected) / float64(m.MaxConnections)
		conns += fmt.Sprintf(" (%.0f%%)  ", frac*100) + st.paint(connTone(m), bar(frac, 20))
	}
	role := "primary"
	pairs := [][2]string{
		{"status", reach},
		{"endpoint", orDash(src.Endpoint)},
		{"version", orDash(m.Version)},
		{"uptime", fmtUptime(m.Uptime)},
		{"connections", st.paint(connTone(m), conns)},
		{"TLS", st.status(tt, tls)},
	}
	if r := m.Replica; r != nil {
		rs, rt := replicaStatus(r)
		role = "replica · " + st.status(rt, rs)
		pairs = append(pairs, [2]string{"role", role},
			[2]string{"IO thread", running(r.IORunning)},
			[2]string{"SQL thread", running(r.SQLRunning)})
		if r.LastError != "" {
			pairs = append(pairs, [2]string{"last error", st.Bad.Render(r.LastError)})
		}
	} else {
		pairs = append(pairs, [2]string{"role", role})
	}
	pairs = append(pairs, [2]string{"database size", format.Bytes(m.DatabaseSizeBytes)})
	v.pager.SetLines(kv(st, 2, v.width, pairs))
}

func (v *mysqlView) View() string {
	return v.view("MySQL", "metrics database")
}

// Selected is the database: enter opens its connections and tables.
func (v *mysqlView) Selected() (model.Ref, bool) {
	name := "metrics"
	if v.snap != nil {
		if _, db, ok := strings.Cut(v.snap.Source(model.SourceMySQL).Endpoint, "://"); ok {
			if _, n, ok := strings.Cut(db, "/"); ok && n != "" {
				name, _, _ = strings.Cut(n, "?")
			}
		}
	}
	return model.Ref{Kind: model.RefMySQL, Name: name}, true
}

func (v *mysqlView) ShortHelp() []key.Binding {
	return openHelp(v.c.keys, "open").ShortHelp()
}
func (v *mysqlView) FullHelp() [][]key.Binding {
	return openHelp(v.c.keys, "open").FullHelp()
}
