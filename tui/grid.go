package tui

import "strings"

// gridSection is a detail's titled block: an empty line, the title, then the grid of rows
// (indented 2), or none when there are no rows.
func gridSection(st *Styles, w int, title string, heads []string, rows [][]cell, none string) []string {
	lines := []string{"", title}
	if len(rows) == 0 {
		return append(lines, "  "+none)
	}
	return append(lines, grid(st, 2, w, heads, rows)...)
}

// grid renders a small table in full (the detail views' node, keyspace and condition lists):
// headings, then one line per row, the last column cut to the width.
func grid(st *Styles, indent int, w int, heads []string, rows [][]cell) []string {
	widths := make([]int, len(heads))
	for i, h := range heads {
		widths[i] = width(h)
	}
	for _, r := range rows {
		for i := range heads {
			if i < len(r) {
				widths[i] = max(widths[i], width(r[i].text))
			}
		}
	}
	pad := strings.Repeat(" ", indent)
	line := func(cells []cell, head bool) string {
		var b strings.Builder
		b.WriteString(pad)
		for i := range heads {
			var c cell
			if i < len(cells) {
				c = cells[i]
			}
			if i > 0 {
				b.WriteString("  ")
			}
			text := c.text
			if i < len(heads)-1 {
				text = fit(text, widths[i])
			}
			if head {
				b.WriteString(st.Column.Render(text))
			} else {
				b.WriteString(st.paint(c.tone, text))
			}
		}
		return truncate(b.String(), w)
	}
	hc := make([]cell, len(heads))
	for i, h := range heads {
		hc[i] = cell{text: h}
	}
	out := []string{line(hc, true)}
	for _, r := range rows {
		out = append(out, line(r, false))
	}
	return out
}

// kv renders "  label        value" lines with labels aligned.
func kv(st *Styles, indent, w int, pairs [][2]string) []string {
	lw := 0
	for _, p := range pairs {
		lw = max(lw, width(p[0]))
	}
	pad := strings.Repeat(" ", indent)
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = truncate(pad+st.Label.Render(fit(p[0], lw))+"  "+p[1], w)
	}
	return out
}

// clipLines keeps at most n lines, ending the last kept one with "…" when some were cut.
func clipLines(lines []string, n, w int) []string {
	if len(lines) <= n {
		return lines
	}
	out := append([]string(nil), lines[:n]...)
	if n > 0 {
		out[n-1] = truncate(out[n-1], max(w-1, 1)) + "…"
	}
	return out
}
