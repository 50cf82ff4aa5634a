package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// promptKind is what the bottom line is reading.
type promptKind int

const (
	promptNone promptKind = iota
	promptFilter
	promptCommand
	promptRollout
)

func (m *Model) openPrompt(kind promptKind) tea.Cmd {
	m.prompt = kind
	m.input.Reset()
	m.input.SetWidth(max(m.width-4, 10))
	switch kind {
	case promptCommand:
		m.input.Prompt = ":"
		m.input.Placeholder = "a view, a resource (pod NAME, deployment NAME, node ADDRESS) or an action (" + strings.Join(paletteActions, " ") + ") — tab completes"
		m.input.ShowSuggestions = true
		m.input.SetSuggestions(m.paletteSuggestions())
	case promptRollout:
		m.input.Prompt = "roll out group " + m.roGroup + " to tag or image: "
		m.input.Placeholder = "e.g. 1.0.1 — enter shows the plan, esc cancels"
		m.input.ShowSuggestions = false
	case promptFilter:
		f := m.body().(filterable)
		m.prevFilter = f.Filter()
		m.input.Prompt = "/"
		m.input.Placeholder = "filter (words match anywhere; enter keeps, esc clears)"
		m.input.ShowSuggestions = false
		m.input.SetValue(m.prevFilter)
	}
	return m.input.Focus()
}

func (m *Model) closePrompt() {
	m.prompt = promptNone
	m.input.Blur()
}

func (m *Model) handlePromptKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.c.keys
	switch {
	case key.Matches(msg, k.Cancel):
		if m.prompt == promptFilter {
			m.body().(filterable).SetFilter("")
		}
		m.closePrompt()
		return nil
	case key.Matches(msg, k.Accept):
		kind, value := m.prompt, m.input.Value()
		m.closePrompt()
		switch kind {
		case promptCommand:
			return m.runCommand(value)
		case promptRollout:
			return m.planRollout(value)
		}
		return nil
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	if m.prompt == promptFilter {
		// Live: the list narrows as the user types.
		m.body().(filterable).SetFilter(strings.TrimSpace(m.input.Value()))
	}
	return cmd
}

// resolveView finds a view by name, alias or unique prefix.
func resolveView(name string) (int, bool) {
	aliases := map[string]string{
		"dash": "dashboard", "home": "dashboard", "po": "pods", "pod": "pods",
		"hpas": "hpa", "cass": "cassandra", "db": "mysql", "ev": "events", "event": "events",
		"finding": "findings", "checks": "findings", "doctor": "findings",
	}
	name = strings.ToLower(name)
	if a, ok := aliases[name]; ok {
		name = a
	}
	found := -1
	for i, v := range viewNames {
		if v == name {
			return i, true
		}
		if strings.HasPrefix(v, name) {
			if found >= 0 {
				return 0, false // ambiguous
			}
			found = i
		}
	}
	return found, found >= 0
}

// runCommand carries out a ":" command: a view name, optionally a group for pods.
func (m *Model) runCommand(line string) tea.Cmd {
	fields := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), ":"))
	if len(fields) == 0 {
		return nil
	}
	if fields[0] == "q" || fields[0] == "quit" {
		if running := m.runningJobs(); len(running) > 0 && !m.quitArmed {
			m.quitArmed = true
			m.message, m.messageErr = quitWarnings(running)+" — :q again to quit", true
			return nil
		}
		m.cancel()
		return tea.Quit
	}
	if cmd, ok := m.runPaletteCommand(fields); ok {
		return cmd
	}
	i, ok := resolveView(fields[0])
	if !ok {
		m.message = fmt.Sprintf("unknown view, resource or action %q — try :%s, :pod NAME or :%s", fields[0], strings.Join(viewNames, " :"), strings.Join(paletteActions, " :"))
		m.messageErr = true
		return nil
	}
	m.switchTo(i)
	if len(fields) > 1 {
		pv, isPods := m.screens[i].(*podsView)
		if !isPods || m.snap == nil {
			m.message = fmt.Sprintf("%s takes no argument", viewNames[i])
			m.messageErr = true
		} else if !pv.SelectGroup(fields[1]) {
			m.message = fmt.Sprintf("unknown group %q — groups: %s", fields[1], strings.Join(pv.groups, " "))
			m.messageErr = true
		}
	}
	return nil
}
