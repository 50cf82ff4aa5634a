package tui

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/apimctl/apimctl/ops/model"
)

// logView is a container's log: the current instance's, followed as it grows, or the
// previous instance's (p switches). It keeps the newest lines in a ring (logMaxLines,
// logMaxBytes), draws only the rows on screen, searches with highlight (/ then n/N; smart
// case), wraps long lines or not (w), and saves what it holds to a file (s).
type logView struct {
	c   *common
	lr  LogReader
	ref model.Ref

	ctx    context.Context // the view's: ends when it closes
	cancel context.CancelFunc
	stream *logStream
	ended  bool
	err    error

	ring    *logRing
	follow  bool  // stick to the newest line
	top     int64 // seq of the top line when not following
	wrap    bool
	hscroll int

	search  matcher
	matches []int64 // seqs of the matching lines held, oldest first
	cur     int     // the current match, an index into matches

	input  textinput.Model
	saving int // 0, 1 reading the path, 2 confirming a replacement
	path   string

	width, height int
}

func newLogView(c *common, lr LogReader, ref model.Ref) *logView {
	in := textinput.New()
	ts := textinput.DefaultStyles(true)
	ts.Cursor.Blink = false
	ts.Focused.Prompt = c.styles.Prompt
	in.SetStyles(ts)
	in.Prompt = "save to: "
	return &logView{c: c, lr: lr, ref: ref, ring: newLogRing(logMaxLines, logMaxBytes), follow: true, wrap: true, input: in}
}

func (v *logView) Name() string { return "logs" }

func (v *logView) Crumb() string {
	if v.ref.Previous {
		return "previous logs"
	}
	return "logs"
}

func (v *logView) Open(ctx context.Context) tea.Cmd {
	v.ctx = ctx
	return v.start()
}

// start (re)opens the stream: the current instance's log followed, or the previous one's.
func (v *logView) start() tea.Cmd {
	if v.cancel != nil {
		v.cancel()
	}
	if v.ctx == nil || v.ctx.Err() != nil {
		return nil
	}
	ctx, cancel := context.WithCancel(v.ctx)
	v.cancel = cancel
	v.ring = newLogRing(v.ring.maxLines, v.ring.maxBytes)
	v.matches, v.cur, v.ended, v.err, v.top, v.follow = nil, 0, false, nil, 0, true
	req := model.LogRequest{Namespace: v.ref.Namespace, Pod: v.ref.Name, Container: v.ref.Container,
		Previous: v.ref.Previous, Follow: !v.ref.Previous, TailLines: int64(v.ring.maxLines)}
	v.stream = startLogStream(ctx, v.lr, req)
	return v.stream.wait(v)
}

func (v *logView) Loaded(msg detailMsg) tea.Cmd {
	switch b := msg.data.(type) {
	case logBatch:
		if b.s != v.stream {
			return nil // a stream this view replaced
		}
		v.append(b.lines)
		if b.ended {
			v.ended, v.err = true, b.err
			return nil
		}
		return b.s.wait(v)
	case saved:
		v.saving = 0
		switch {
		case b.err == errExists:
			return statusCmd(b.path+" exists; nothing written (it appeared meanwhile)", true)
		case b.err != nil:
			return statusCmd("log not saved: "+b.err.Error(), true)
		}
		return statusCmd(fmt.Sprintf("saved %d lines to %s", b.lines, b.path), false)
	}
	return nil
}

// append takes in a batch: into the ring, and into the matches when the search finds it.
func (v *logView) append(lines []string) {
	for _, l := range lines {
		v.ring.push(l)
		if v.search.term != "" && v.search.match(l) {
			v.matches = append(v.matches, v.ring.seqOf(v.ring.len()-1))
		}
	}
	drop := 0
	for drop < len(v.matches) && v.matches[drop] < v.ring.first {
		drop++
	}
	if drop > 0 {
		v.matches = v.matches[drop:]
		v.cur = max(v.cur-drop, 0)
	}
	v.clampTop()
}

func (v *logView) SetSnapshot(*model.Snapshot) {}
func (v *logView) Refresh()                    {}

func (v *logView) SetSize(w, h int) {
	v.width, v.height = w, h
	v.input.SetWidth(max(w-len(v.input.Prompt)-2, 10))
}

// rows is how many log rows the body has: a title line above, a status line below.
func (v *logView) rows() int { return max(v.height-2, 1) }

// SetFilter is the search: the log view's "/" finds and highlights, it does not narrow.
func (v *logView) SetFilter(f string) {
	if f == v.search.term {
		return
	}
	v.search = newMatcher(f)
	v.matches, v.cur = v.matches[:0], 0
	if f == "" {
		return
	}
	for i := range v.ring.len() {
		if v.search.match(v.ring.at(i)) {
			v.matches = append(v.matches, v.ring.seqOf(i))
		}
	}
	if len(v.matches) > 0 {
		v.cur = len(v.matches) - 1 // the newest: where a followed log's trouble is
		v.show(v.matches[v.cur])
	}
}

func (v *logView) Filter() string { return v.search.term }

// Capturing: the save prompt takes every key.
func (v *logView) Capturing() bool { return v.saving > 0 }

// show scrolls so the line seq is on screen, a third of the way down.
func (v *logView) show(seq int64) {
	v.follow = false
	v.top = seq - int64(v.rows()/3)
	v.clampTop()
}

func (v *logView) clampTop() {
	last := v.ring.first + int64(max(v.ring.len()-v.rows(), 0))
	v.top = min(max(v.top, v.ring.first), last)
}

func (v *logView) Update(msg tea.KeyPressMsg) tea.Cmd {
	if v.saving > 0 {
		return v.updateSave(msg)
	}
	k := v.c.keys
	page := int64(max(v.rows()-1, 1))
	scroll := func(d int64) {
		if v.follow {
			v.follow = false
			v.top = v.ring.first + int64(max(v.ring.len()-v.rows(), 0))
		}
		v.top += d
		v.clampTop()
	}
	switch {
	case key.Matches(msg, k.Follow):
		v.follow = !v.follow
		if !v.follow {
			scroll(0)
		}
	case key.Matches(msg, k.Wrap):
		v.wrap, v.hscroll = !v.wrap, 0
	case key.Matches(msg, k.PrevLogs):
		v.ref.Previous = !v.ref.Previous
		return v.start()
	case key.Matches(msg, k.Save):
		v.saving = 1
		name := v.ref.Name
		if v.ref.Container != "" {
			name += "-" + v.ref.Container
		}
		if v.ref.Previous {
			name += "-previous"
		}
		v.input.SetValue(name + ".log")
		v.input.CursorEnd()
		return v.input.Focus()
	case key.Matches(msg, k.NextMatch), key.Matches(msg, k.PrevMatch):
		if n := len(v.matches); n > 0 {
			if key.Matches(msg, k.NextMatch) {
				v.cur = (v.cur + 1) % n
			} else {
				v.cur = (v.cur - 1 + n) % n
			}
			v.show(v.matches[v.cur])
		}
	case key.Matches(msg, k.Up):
		scroll(-1)
	case key.Matches(msg, k.Down):
		scroll(1)
	case key.Matches(msg, k.PageUp):
		scroll(-page)
	case key.Matches(msg, k.PageDown):
		scroll(page)
	case key.Matches(msg, k.Top):
		v.follow, v.top = false, v.ring.first
	case key.Matches(msg, k.Bottom):
		v.follow = true
	case msg.String() == "right" && !v.wrap:
		v.hscroll += 8
	case msg.String() == "left" && !v.wrap:
		v.hscroll = max(v.hscroll-8, 0)
	}
	return nil
}

// updateSave reads the path, asks before replacing a file, and writes in a command.
func (v *logView) updateSave(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "esc":
		v.saving = 0
		v.input.Blur()
		return statusCmd("not saved", false)
	case "enter":
		if v.saving == 1 {
			p, err := savePath(v.input.Value())
			if err != nil {
				v.saving = 0
				v.input.Blur()
				return statusCmd("log not saved: "+err.Error(), true)
			}
			v.path = p
			if exists(p) {
				v.saving = 2 // a second enter replaces it
				return nil
			}
		}
		replace := v.saving == 2
		v.input.Blur()
		path, lines := v.path, v.ring.all()
		return func() tea.Msg {
			return detailMsg{d: v, data: saved{path: path, lines: len(lines), err: writeLogFile(path, lines, replace)}}
		}
	}
	if v.saving == 2 {
		return nil // only enter or esc answer the question
	}
	var cmd tea.Cmd
	v.input, cmd = v.input.Update(msg)
	return cmd
}

func (v *logView) View() string {
	st := &v.c.styles
	what := v.ref.Name
	if v.ref.Container != "" {
		what += "/" + v.ref.Container
	}
	title := "Logs"
	if v.ref.Previous {
		title = "Previous logs"
	}
	var state string
	switch {
	case v.err != nil:
		state = st.status(toneBad, "stream failed")
	case v.ended && !v.ref.Previous:
		state = st.status(toneMuted, "stream ended")
	case v.ended:
		state = st.status(toneMuted, "complete")
	default:
		state = st.status(toneBusy, "streaming")
	}
	out := []string{titleBar(v.c, v.width-width(state)-1, title+" "+what, "", nil) + " " + state}
	out = append(out, v.body()...)
	return strings.Join(append(out, v.footer()), "\n")
}

// body draws the rows on screen: from the newest line up when following, else from top;
// wrapped or cut; search matches highlighted.
func (v *logView) body() []string {
	st := &v.c.styles
	h, w := v.rows(), v.width
	if v.ring.len() == 0 {
		lines := make([]string, h)
		switch {
		case v.err != nil:
			lines[0] = truncate(st.status(toneBad, v.err.Error()), w)
		case v.ended:
			lines[0] = "  " + st.Muted.Render("the log is empty")
		default:
			lines[0] = "  " + st.Muted.Render("waiting for the log…")
		}
		return lines
	}
	render := func(i int) []string {
		s := v.highlight(sanitize(v.ring.at(i)))
		if v.wrap {
			return strings.Split(ansi.Hardwrap(s, w, true), "\n")
		}
		if v.hscroll > 0 {
			s = ansi.TruncateLeft(s, v.hscroll, "…")
		}
		return []string{truncate(s, w)}
	}
	var rows []string
	if v.follow {
		for i := v.ring.len() - 1; i >= 0 && len(rows) < h; i-- {
			rows = append(render(i), rows...)
		}
		if len(rows) > h {
			rows = rows[len(rows)-h:]
		}
	} else {
		start, _ := v.ring.index(v.top)
		for i := start; i < v.ring.len() && len(rows) < h; i++ {
			rows = append(rows, render(i)...)
		}
		if len(rows) > h {
			rows = rows[:h]
		}
	}
	if v.err != nil && len(rows) > 0 {
		rows[len(rows)-1] = truncate(st.status(toneBad, v.err.Error()), w)
	}
	for len(rows) < h {
		rows = append(rows, "")
	}
	return rows
}

// highlight marks every match of the search in a (sanitized) line.
func (v *logView) highlight(s string) string {
	if v.search.term == "" {
		return s
	}
	i := v.search.index(s, 0)
	if i < 0 {
		return s
	}
	var b strings.Builder
	from := 0
	for i >= 0 {
		end := i + len(v.search.term)
		b.WriteString(s[from:i])
		b.WriteString(v.c.styles.Selected.Render(s[i:end]))
		from = end
		i = v.search.index(s, end)
	}
	b.WriteString(s[from:])
	return b.String()
}

// footer is the save prompt while it reads, else where the view stands.
func (v *logView) footer() string {
	st := &v.c.styles
	switch v.saving {
	case 1:
		return truncate(v.input.View(), v.width)
	case 2:
		return truncate(st.Error.Render("! "+v.path+" exists")+st.Muted.Render(" — enter replaces it, esc keeps it"), v.width)
	}
	parts := []string{fmt.Sprintf("%d lines", v.ring.len())}
	if v.ring.dropped > 0 {
		parts[0] += fmt.Sprintf(" (%d older dropped)", v.ring.dropped)
	}
	if v.follow {
		parts = append(parts, "following (f)")
	} else {
		pos, _ := v.ring.index(v.top)
		parts = append(parts, fmt.Sprintf("line %d (f follows)", pos+1))
	}
	if v.wrap {
		parts = append(parts, "wrap on (w)")
	} else {
		parts = append(parts, "wrap off (w)")
	}
	if t := v.search.term; t != "" {
		m := "no match"
		if n := len(v.matches); n > 0 {
			m = fmt.Sprintf("match %d of %d (n/N)", v.cur+1, n)
		}
		parts = append(parts, st.Prompt.Render("/"+t)+st.Muted.Render(" "+m))
	}
	return truncate(st.Muted.Render(strings.Join(parts, " · ")), v.width)
}

func (v *logView) keys() []key.Binding {
	k := v.c.keys
	return []key.Binding{k.Follow, k.Wrap, k.Search, k.NextMatch, k.Save, k.PrevLogs}
}

func (v *logView) ShortHelp() []key.Binding {
	if v.saving > 0 {
		return v.promptKeys()
	}
	return detailHelp(v.c.keys, v.keys()...).ShortHelp()
}

func (v *logView) FullHelp() [][]key.Binding {
	if v.saving > 0 {
		return [][]key.Binding{v.promptKeys()}
	}
	return detailHelp(v.c.keys, v.keys()...).FullHelp()
}

// promptKeys are the save prompt's: enter saves (or, asked, replaces), esc does not.
func (v *logView) promptKeys() []key.Binding {
	enter := key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "save"))
	if v.saving == 2 {
		enter = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "replace the file"))
	}
	return []key.Binding{enter, key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "do not save"))}
}
