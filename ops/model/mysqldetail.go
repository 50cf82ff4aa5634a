package model

import (
	"sort"
	"strings"

	"github.com/apimctl/apimctl/internal/redact"
)

// idleCommands are process-list commands that run no statement of the user's.
var idleCommands = map[string]bool{"sleep": true, "daemon": true, "binlog dump": true, "slave_io": true, "slave_sql": true, "slave_worker": true}

// Running reports whether a connection is running a statement now (not idle, not a server
// thread).
func (c MySQLConnection) Running() bool {
	return !idleCommands[strings.ToLower(c.Command)] && c.Command != ""
}

// SortConnections orders a process list for on-call: running statements first, the
// longest-running first; then idle connections, the longest idle first; ties by ID.
func SortConnections(cs []MySQLConnection) {
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if a.Running() != b.Running() {
			return a.Running()
		}
		if a.Time != b.Time {
			return a.Time > b.Time
		}
		return a.ID < b.ID
	})
}

// StatementLine is a statement as one line of at most n runes: whitespace runs folded to one
// space, credentials masked, the rest cut with an ellipsis.
func StatementLine(stmt string, n int) string {
	s := redact.SQL(strings.Join(strings.Fields(stmt), " "))
	r := []rune(s)
	if n <= 0 || len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// SortTables puts the largest tables (data and indexes) first.
func SortTables(ts []TableSize) {
	sort.SliceStable(ts, func(i, j int) bool {
		a, b := ts[i].DataBytes+ts[i].IndexBytes, ts[j].DataBytes+ts[j].IndexBytes
		if a != b {
			return a > b
		}
		return ts[i].Name < ts[j].Name
	})
}
