package tui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/apimctl/apimctl/ops/model"
)

// DrillBench measures the drill-downs outside a running program, for `apimctl debug`: a
// model fed one snapshot whose commands run in line, so the time from a key to the frame is
// the console's own work plus the inspector's reads, nothing else.
type DrillBench struct{ m *Model }

// NewDrillBench shows the pods view of s at a size, with the inspector.
func NewDrillBench(s model.Snapshot, inspector any, width, height int) *DrillBench {
	m := New(nil, Options{Inspector: inspector}).(*Model)
	m.Update(tea.WindowSizeMsg{Width: width, Height: height})
	m.Update(snapshotMsg{snap: s, closed: true})
	i, _ := resolveView("pods")
	m.switchTo(i)
	return &DrillBench{m: m}
}

// OpenPod selects the pod in the pods view (not timed) and presses enter; it returns the time
// until a frame shows its detail with its events, and that frame. The detail stays open until
// Close.
func (b *DrillBench) OpenPod(name string) (time.Duration, string, error) {
	m := b.m
	b.Close()
	pv, ok := m.screens[m.active].(*podsView)
	if !ok {
		return 0, "", errors.New("not on the pods view")
	}
	pv.SetFilter(name)
	start := time.Now()
	_, cmd := m.Update(tea.KeyPressMsg{Code: tea.KeyEnter})
	runInline(m, cmd)
	frame := m.View().Content
	took := time.Since(start)
	pv.SetFilter("")
	d, ok := m.top().(*podDetail)
	switch {
	case !ok:
		return 0, frame, fmt.Errorf("enter on %s opened no pod detail", name)
	case d.err != nil:
		return 0, frame, d.err
	case d.d == nil || !strings.Contains(frame, "Events ("):
		return 0, frame, fmt.Errorf("the detail of %s shows no events section", name)
	}
	return took, frame, nil
}

// Render draws one frame of what is open.
func (b *DrillBench) Render() string { return b.m.View().Content }

// Close closes the open details.
func (b *DrillBench) Close() {
	for b.m.pop() {
	}
}

// runInline runs a command and what its messages lead to, in line (a stream's next wait is
// not followed).
func runInline(m *Model, cmd tea.Cmd) {
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case detailMsg:
			m.Update(msg)
		}
	}
}

// LogBench is a log view fed lines directly, for `apimctl debug`: its memory with many lines
// and the time of its frames.
type LogBench struct{ v *logView }

// NewLogBench is an empty log view of a size.
func NewLogBench(width, height int) *LogBench {
	v := newLogView(newCommon(nil, ""), nil, model.Ref{Kind: model.RefLogs, Name: "bench", Container: "traffic"})
	v.SetSize(width, height)
	return &LogBench{v: v}
}

// Append takes in a batch of lines as a stream delivers it.
func (b *LogBench) Append(lines []string) { b.v.append(lines) }

// Lines is how many lines it holds; Bytes how many bytes of text.
func (b *LogBench) Lines() int { return b.v.ring.len() }
func (b *LogBench) Bytes() int { return b.v.ring.bytes }

// Search searches as "/" does; it returns the matches.
func (b *LogBench) Search(term string) int { b.v.SetFilter(term); return len(b.v.matches) }

// Follow sets following (the newest lines at the bottom) or not (the view at its top line).
func (b *LogBench) Follow(on bool) { b.v.follow = on }

// Render draws one frame.
func (b *LogBench) Render() string { return b.v.View() }
