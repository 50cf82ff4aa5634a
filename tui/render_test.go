package tui

import (
	"os"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/apimctl/apimctl/ops"
)

// drive builds a model at a size with an optional snapshot and returns it, without a program.
func drive(t testing.TB, w, h int, snap *ops.Snapshot, opts Options) *Model {
	t.Helper()
	if opts.Now == nil {
		opts.Now = fixedClock
	}
	m := New(chanFeed(make(chan ops.Snapshot)), opts).(*Model)
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	if snap != nil {
		m.Update(snapshotMsg{snap: *snap})
	}
	return m
}

func press(m *Model, keys ...string) {
	for _, k := range keys {
		m.Update(keyMsg(k))
	}
}

func TestDump(t *testing.T) {
	if os.Getenv("TUI_DUMP") == "" {
		t.Skip("set TUI_DUMP=1 to print screens")
	}
	s := degradedSnapshot()
	if os.Getenv("TUI_DUMP") == "healthy" {
		s = healthySnapshot()
	}
	for _, sz := range [][2]int{{80, 24}, {160, 48}} {
		m := drive(t, sz[0], sz[1], &s, Options{})
		for _, k := range []string{"1", "2", "3", "4", "5", "6", "7", "8"} {
			press(m, k)
			t.Logf("\n%s", ansi.Strip(m.View().Content))
		}
	}
}
