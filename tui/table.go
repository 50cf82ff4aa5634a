package tui

import (
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
)

// column describes one table column and how it gives way on a narrow terminal.
type column struct {
	title string
	min   int // never narrower than this (after the title is cut)
	max   int // 0: as wide as the widest cell
	// flex: this column shrinks (down to min) before any column is dropped.
	flex bool
	// prio: columns with the lowest prio are dropped first when the row does not fit;
	// 0 is never dropped.
	prio  int
	right bool
	// age: the cell is the time since row.time, computed when drawn so it ages with the clock
	// without rebuilding every row each second.
	age bool
	// middle: cut long cells in the middle, keeping the end: pod names differ in their suffix.
	middle bool
}

// cell is one table cell: plain text and the tone it is drawn in.
type cell struct {
	text string
	tone tone
}

// row is one table row. key is the lower-cased text the filter searches; id identifies the
// row across snapshots so the cursor stays on the same pod when data refreshes.
type row struct {
	id    string
	cells []cell
	time  time.Time
	key   string
}

// table is a scrolling, filterable list that draws only the rows on screen, so a frame costs
// the same at ten pods or ten thousand. Everything that depends on all rows (filtering,
// natural column widths) is done when rows, filter or size change, in Update.
type table struct {
	c       *common
	cols    []column
	natural []int // widest cell per column, over all rows
	widths  []int // laid-out width per column, 0 when dropped
	rows    []row
	shown   []int // indexes into rows that pass the filter
	filter  string
	cursor  int // index into shown
	offset  int // first shown row on screen
	width   int
	height  int // rows of data, not counting the heading
	empty   string
	// blurred draws the cursor's row as any other (the view's focus is elsewhere).
	blurred bool
}

func newTable(c *common, cols []column, empty string) *table {
	return &table{c: c, cols: cols, empty: empty}
}

// SetRows replaces the rows, keeping the cursor on the same row id when it is still there.
func (t *table) SetRows(rows []row) {
	selID := ""
	if r, ok := t.Selected(); ok {
		selID = r.id
	}
	t.rows = rows
	t.natural = make([]int, len(t.cols))
	for i, col := range t.cols {
		t.natural[i] = width(col.title)
		if col.age {
			t.natural[i] = max(t.natural[i], 4)
		}
	}
	for _, r := range rows {
		for i := range t.cols {
			if i < len(r.cells) {
				if w := width(r.cells[i].text); w > t.natural[i] {
					t.natural[i] = w
				}
			}
		}
	}
	t.applyFilter()
	if selID != "" {
		for i, ri := range t.shown {
			if t.rows[ri].id == selID {
				t.cursor = i
				break
			}
		}
	}
	t.layout()
	t.clamp()
}

// SetFilter narrows the rows to those whose key contains every word of f (case-insensitive).
func (t *table) SetFilter(f string) {
	if f == t.filter {
		return
	}
	t.filter = f
	t.applyFilter()
	t.cursor, t.offset = 0, 0
	t.clamp()
}

func (t *table) Filter() string { return t.filter }

// Counts returns how many rows pass the filter and how many there are.
func (t *table) Counts() (shown, total int) { return len(t.shown), len(t.rows) }

func (t *table) applyFilter() {
	words := strings.Fields(strings.ToLower(t.filter))
	t.shown = t.shown[:0]
	if cap(t.shown) < len(t.rows) {
		t.shown = make([]int, 0, len(t.rows))
	}
outer:
	for i := range t.rows {
		for _, w := range words {
			if !strings.Contains(t.rows[i].key, w) {
				continue outer
			}
		}
		t.shown = append(t.shown, i)
	}
}

// SetSize sets the table's outer size; one line goes to the column headings.
func (t *table) SetSize(w, h int) {
	t.width, t.height = w, max(h-1, 0)
	t.layout()
	t.clamp()
}

const (
	colGap     = 2
	markerCols = 2 // "▸ "
)

// layout fits the columns into the width: first the flex column shrinks to its minimum,
// then the lowest-priority columns go.
func (t *table) layout() {
	if t.natural == nil {
		t.natural = make([]int, len(t.cols))
		for i, col := range t.cols {
			t.natural[i] = width(col.title)
		}
	}
	t.widths = make([]int, len(t.cols))
	for i, col := range t.cols {
		w := max(t.natural[i], col.min)
		if col.max > 0 {
			w = min(w, col.max)
		}
		t.widths[i] = w
	}
	avail := t.width - markerCols
	total := func() (sum, slack int) {
		n := 0
		for i, w := range t.widths {
			if w == 0 {
				continue
			}
			sum += w
			n++
			if t.cols[i].flex {
				slack += w - t.cols[i].min
			}
		}
		return sum + colGap*max(n-1, 0), slack
	}
	for {
		sum, slack := total()
		if sum-slack <= avail {
			break
		}
		drop := -1
		for i, col := range t.cols {
			if t.widths[i] == 0 || col.prio == 0 {
				continue
			}
			if drop < 0 || col.prio < t.cols[drop].prio {
				drop = i
			}
		}
		if drop < 0 {
			break
		}
		t.widths[drop] = 0
	}
	// Shrink the widest flex column a cell at a time, so several flex columns share the cut.
	for sum, _ := total(); sum > avail; sum-- {
		widest := -1
		for i, col := range t.cols {
			if col.flex && t.widths[i] > col.min && (widest < 0 || t.widths[i] > t.widths[widest]) {
				widest = i
			}
		}
		if widest < 0 {
			break
		}
		t.widths[widest]--
	}
}

func (t *table) clamp() {
	n := len(t.shown)
	if t.cursor >= n {
		t.cursor = n - 1
	}
	if t.cursor < 0 {
		t.cursor = 0
	}
	if t.offset > t.cursor {
		t.offset = t.cursor
	}
	if t.height > 0 && t.cursor >= t.offset+t.height {
		t.offset = t.cursor - t.height + 1
	}
	if maxOff := max(n-t.height, 0); t.offset > maxOff {
		t.offset = maxOff
	}
	if t.offset < 0 {
		t.offset = 0
	}
}

// Selected returns the row under the cursor.
func (t *table) Selected() (row, bool) {
	if t.cursor < 0 || t.cursor >= len(t.shown) {
		return row{}, false
	}
	return t.rows[t.shown[t.cursor]], true
}

// Update moves the cursor; it reports whether the key was a list key.
func (t *table) Update(msg tea.KeyPressMsg) bool {
	if !t.c.keys.scroll(msg, &t.cursor, max(t.height-1, 1), len(t.shown)-1) {
		return false
	}
	t.clamp()
	return true
}

// ClickRow moves the cursor to the row drawn on line y of the table (0 is the heading); it
// reports whether y was a row.
func (t *table) ClickRow(y int) bool {
	i := t.offset + y - 1
	if y < 1 || y > t.height || i >= len(t.shown) {
		return false
	}
	t.cursor = i
	t.clamp()
	return true
}

// View draws the heading and the visible rows: exactly height+1 lines.
func (t *table) View() string {
	st := &t.c.styles
	var b strings.Builder
	b.Grow((t.height + 1) * (t.width + 16))
	// Heading.
	b.WriteString(strings.Repeat(" ", markerCols))
	first := true
	for i, col := range t.cols {
		if t.widths[i] == 0 {
			continue
		}
		if !first {
			b.WriteString(strings.Repeat(" ", colGap))
		}
		first = false
		title := fit(col.title, t.widths[i])
		if col.right {
			title = fitRight(col.title, t.widths[i])
		}
		b.WriteString(st.Column.Render(title))
	}
	if len(t.shown) == 0 {
		msg := t.empty
		if len(t.rows) > 0 {
			msg = "nothing matches the filter “" + t.filter + "” (esc clears it)"
		}
		b.WriteString("\n" + truncate("  "+st.Muted.Render(msg), t.width))
		for i := 1; i < t.height; i++ {
			b.WriteByte('\n')
		}
		return b.String()
	}
	end := min(t.offset+t.height, len(t.shown))
	for n := t.offset; n < t.offset+t.height; n++ {
		b.WriteByte('\n')
		if n >= end {
			continue
		}
		b.WriteString(t.renderRow(&t.rows[t.shown[n]], n == t.cursor && !t.blurred))
	}
	return b.String()
}

func (t *table) renderRow(r *row, selected bool) string {
	st := &t.c.styles
	var line strings.Builder
	first := true
	for i, col := range t.cols {
		w := t.widths[i]
		if w == 0 {
			continue
		}
		if !first {
			line.WriteString("  ")
		}
		first = false
		var c cell
		if i < len(r.cells) {
			c = r.cells[i]
		}
		if col.age {
			c.text = humanAge(t.c.now.Sub(r.time))
			if r.time.IsZero() {
				c.text = "-"
			}
		}
		var text string
		switch {
		case col.right:
			text = fitRight(c.text, w)
		case col.middle:
			text = fit(truncateMiddle(c.text, w), w)
		default:
			text = fit(c.text, w)
		}
		if !selected {
			text = st.paint(c.tone, text)
		}
		line.WriteString(text)
	}
	if selected {
		return st.Selected.Render("▸ " + fit(line.String(), t.width-markerCols))
	}
	return "  " + line.String()
}

// SelectedIndex returns the index (into the rows given to SetRows) of the row under the cursor.
func (t *table) SelectedIndex() (int, bool) {
	if t.cursor < 0 || t.cursor >= len(t.shown) {
		return 0, false
	}
	return t.shown[t.cursor], true
}
