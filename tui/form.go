package tui

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
)

// A form is a dialog of text fields — the restore's target, a prune's count, a patch merge's
// archives — that becomes a request on enter at its last field. Path fields complete with
// tab from the directory typed so far. The request goes to ops, which checks it as the
// subcommand checks its flags; an error opens the form again with the values kept.
type form struct {
	title string
	// intro are lines above the fields (what the form acts on).
	intro  []string
	fields []*formField
	focus  int
	err    string
	width  int
	// submit turns the values into a job; done says what esc says.
	submit    func(m *Model, f *form) tea.Cmd
	cancelMsg string
}

// formField is one labelled text field.
type formField struct {
	name  string // the key the request reads it by
	label string
	input textinput.Model
	// paths: tab completes file paths; list: several values separated by commas.
	paths, list bool
}

const formLabelWidth = 14

func newForm(title, cancelMsg string, submit func(m *Model, f *form) tea.Cmd) *form {
	return &form{title: title, cancelMsg: cancelMsg, submit: submit}
}

// field adds a field with a placeholder and an initial value.
func (f *form) field(c *common, name, label, placeholder, value string, paths, list bool) *form {
	in := textinput.New()
	st := textinput.DefaultStyles(true)
	st.Cursor.Blink = false
	st.Focused.Prompt = c.styles.Prompt
	in.SetStyles(st)
	in.Prompt = ""
	in.Placeholder = placeholder
	in.ShowSuggestions = paths
	in.KeyMap.AcceptSuggestion = key.NewBinding(key.WithKeys("tab"))
	in.KeyMap.NextSuggestion = key.NewBinding(key.WithKeys("ctrl+n"))
	in.KeyMap.PrevSuggestion = key.NewBinding(key.WithKeys("ctrl+p"))
	in.SetValue(value)
	fld := &formField{name: name, label: label, input: in, paths: paths, list: list}
	f.fields = append(f.fields, fld)
	if len(f.fields) == 1 {
		fld.input.Focus()
	}
	return f
}

// value is a field's text, trimmed.
func (f *form) value(name string) string {
	for _, fl := range f.fields {
		if fl.name == name {
			return strings.TrimSpace(fl.input.Value())
		}
	}
	return ""
}

// values is a list field's values: split at commas, empty ones dropped.
func (f *form) values(name string) []string {
	var out []string
	for _, v := range strings.Split(f.value(name), ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (f *form) setError(s string) { f.err = s }

func (f *form) typing() bool { return true }

func (f *form) Loaded(*Model, dialogMsg) tea.Cmd { return nil }

func (f *form) move(d int) {
	f.fields[f.focus].input.Blur()
	f.focus = (f.focus + d + len(f.fields)) % len(f.fields)
	f.fields[f.focus].input.Focus()
	f.complete()
}

// complete offers the focused path field's completions.
func (f *form) complete() {
	fl := f.fields[f.focus]
	if fl.paths {
		fl.input.SetSuggestions(pathSuggestions(fl.input.Value(), fl.list))
	}
}

func (f *form) Update(m *Model, msg tea.KeyPressMsg) tea.Cmd {
	fl := f.fields[f.focus]
	switch msg.String() {
	case "esc":
		m.dialog = nil
		m.message = f.cancelMsg
		return nil
	case "up", "shift+tab":
		f.move(-1)
		return nil
	case "down":
		f.move(1)
		return nil
	case "tab":
		if s := fl.input.CurrentSuggestion(); fl.paths && s != "" && !strings.EqualFold(s, fl.input.Value()) {
			var cmd tea.Cmd
			fl.input, cmd = fl.input.Update(msg)
			f.complete()
			return cmd
		}
		f.move(1)
		return nil
	case "enter":
		if f.focus < len(f.fields)-1 {
			f.move(1)
			return nil
		}
		f.err = ""
		return f.submit(m, f)
	}
	var cmd tea.Cmd
	fl.input, cmd = fl.input.Update(msg)
	f.complete()
	return cmd
}

func (f *form) View(m *Model, w, h int) string {
	st := &m.c.styles
	if f.width != w {
		f.width = w
		for _, fl := range f.fields {
			fl.input.SetWidth(max(w-formLabelWidth-6, 10))
		}
	}
	lines := []string{titleBar(m.c, w, f.title, st.status(toneWarn, "waiting for you"), nil)}
	for _, p := range f.intro {
		for _, l := range wrap(p, max(w-4, 20)) {
			lines = append(lines, "  "+st.Muted.Render(l))
		}
	}
	lines = append(lines, "")
	for i, fl := range f.fields {
		mark := "  "
		if i == f.focus {
			mark = st.Prompt.Render("▸ ")
		}
		lines = append(lines, truncate(mark+st.Muted.Render(fit(fl.label, formLabelWidth))+" "+fl.input.View(), w))
		if i == f.focus && fl.paths {
			if names := completionNames(fl.input.MatchedSuggestions()); names != "" {
				lines = append(lines, truncate("  "+strings.Repeat(" ", formLabelWidth)+" "+st.Muted.Render("tab: "+names), w))
			}
		}
	}
	lines = append(lines, "")
	if f.err != "" {
		for _, l := range wrap("✗ "+f.err, max(w-4, 20)) {
			lines = append(lines, "  "+st.Error.Render(l))
		}
	}
	lines = append(lines, "  "+st.Muted.Render("enter on the last field shows the plan; nothing changes before y."))
	return padLines(clipLines(lines, h, w), w, h)
}

// completionNames are the last path elements of the first completions, for the hint line.
func completionNames(sugs []string) string {
	var names []string
	for i, s := range sugs {
		if i == 6 {
			names = append(names, "…")
			break
		}
		s = s[strings.LastIndex(s, ",")+1:]
		base := filepath.Base(strings.TrimSuffix(s, "/"))
		if strings.HasSuffix(s, "/") {
			base += "/"
		}
		names = append(names, base)
	}
	return strings.Join(names, "  ")
}

func (f *form) ShortHelp() []key.Binding {
	return []key.Binding{
		key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "next/plan")),
		key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "complete/next")),
		key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑↓", "field")),
		key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}
}

func (f *form) FullHelp() [][]key.Binding { return [][]key.Binding{f.ShortHelp()} }

// pathSuggestions completes the last path of v (after its last comma when list) from the
// directory it names: every entry whose name starts with what was typed, directories with
// a slash; dotfiles only once a dot is typed. At most 100, sorted.
func pathSuggestions(v string, list bool) []string {
	prefix, frag := "", v
	if list {
		if i := strings.LastIndex(v, ","); i >= 0 {
			prefix, frag = v[:i+1], v[i+1:]
			trimmed := strings.TrimLeft(frag, " ")
			prefix += frag[:len(frag)-len(trimmed)]
			frag = trimmed
		}
	}
	if frag == "" {
		return nil
	}
	dir, base := filepath.Split(frag)
	read := dir
	if read == "" {
		read = "."
	}
	entries, err := os.ReadDir(homePath(read))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if !strings.HasPrefix(n, base) || (strings.HasPrefix(n, ".") && !strings.HasPrefix(base, ".")) {
			continue
		}
		s := prefix + dir + n
		if info, err := os.Stat(filepath.Join(homePath(read), n)); err == nil && info.IsDir() {
			s += "/"
		}
		out = append(out, s)
		if len(out) == 100 {
			break
		}
	}
	sort.Strings(out)
	return out
}

// homePath reads "~/x" as the home directory's x, as a shell would.
func homePath(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, rest)
		}
	}
	return p
}
