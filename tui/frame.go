package tui

import (
	"time"

	"github.com/apimctl/apimctl/ops/model"

	tea "charm.land/bubbletea/v2"
)

// Frame renders one view of a fixed snapshot outside a running program: for benchmarks and
// for commands that print a single screen. Its clock stands at the snapshot's time.
type Frame struct{ m *Model }

// NewFrame loads s into a model of the given size and shows view (a name as `:` takes;
// the dashboard when unknown).
func NewFrame(s model.Snapshot, view string, width, height int) *Frame {
	m := New(nil, Options{Now: func() time.Time { return s.Taken }}).(*Model)
	m.Update(tea.WindowSizeMsg{Width: width, Height: height})
	if i, ok := resolveView(view); ok {
		m.switchTo(i)
	}
	// closed: no feed to wait on; the frame keeps this snapshot.
	m.Update(snapshotMsg{snap: s, closed: true})
	return &Frame{m: m}
}

// Render returns the frame's text, as the terminal would be sent it.
func (f *Frame) Render() string { return f.m.View().Content }

// Scroll moves the cursor of the view's list down n rows (wrapping to the top at the end).
func (f *Frame) Scroll(n int) {
	before := f.Render()
	for range n {
		f.m.Update(tea.KeyPressMsg{Code: tea.KeyDown})
	}
	if f.Render() == before {
		f.m.Update(tea.KeyPressMsg{Code: 'g', Text: "g"})
	}
}
