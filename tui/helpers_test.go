package tui

import (
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
	eachKey(keys, func(k tea.KeyPressMsg) { m.Update(k) })
}

// eachKey gives send the key presses of keys, in order; "text:abc" is a, b and c.
func eachKey(keys []string, send func(tea.KeyPressMsg)) {
	for _, k := range keys {
		if s, ok := cutText(k); ok {
			for _, r := range s {
				send(keyMsg(string(r)))
			}
			continue
		}
		send(keyMsg(k))
	}
}

// frame is the model's frame as plain text.
func frame(m *Model) string { return ansi.Strip(m.View().Content) }

// namedKeys are the key presses whose msg.String() is a name rather than the key's text.
var namedKeys = map[string]tea.KeyPressMsg{
	"enter":     {Code: tea.KeyEnter},
	"esc":       {Code: tea.KeyEscape},
	"tab":       {Code: tea.KeyTab},
	"shift+tab": {Code: tea.KeyTab, Mod: tea.ModShift},
	"backspace": {Code: tea.KeyBackspace},
	"down":      {Code: tea.KeyDown},
	"up":        {Code: tea.KeyUp},
	"pgdown":    {Code: tea.KeyPgDown},
	"ctrl+c":    {Code: 'c', Mod: tea.ModCtrl},
	"ctrl+u":    {Code: 'u', Mod: tea.ModCtrl}, // clears a field
}

// keyMsg makes the key press that msg.String() reports as s.
func keyMsg(s string) tea.KeyPressMsg {
	if k, ok := namedKeys[s]; ok {
		return k
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}
