package tui

import (
	"strings"
	"testing"

	"github.com/apimctl/apimctl/ops/model"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// drive builds a model at a size with an optional snapshot, without a program: for tests that
// step Update by hand.
func drive(t testing.TB, w, h int, snap *model.Snapshot, opts Options) *Model {
	t.Helper()
	if opts.Now == nil {
		opts.Now = fixedClock
	}
	m := New(chanFeed(make(chan model.Snapshot)), opts).(*Model)
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	if snap != nil {
		m.Update(snapshotMsg{snap: *snap})
	}
	return m
}

// press sends key presses; "text:abc" types abc.
func press(m *Model, keys ...string) {
	for _, k := range keys {
		if s, ok := strings.CutPrefix(k, "text:"); ok {
			for _, r := range s {
				m.Update(keyMsg(string(r)))
			}
			continue
		}
		m.Update(keyMsg(k))
	}
}

// frame is the model's frame as plain text.
func frame(m *Model) string { return ansi.Strip(m.View().Content) }

// keyMsg makes the key press that msg.String() reports as s.
func keyMsg(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}
