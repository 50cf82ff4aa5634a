package tui

import (
	"fmt"
	"sort"
	"strings"

	"github.com/apimctl/apimctl/ops/check"
	"github.com/apimctl/apimctl/ops/model"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// findingDetailLines is how many lines the selected finding's message and fix get.
const findingDetailLines = 4

// findingsView lists the checks' findings, most severe first, with the fix of the selected one.
type findingsView struct {
	c        *common
	snap     *model.Snapshot
	tbl      *table
	findings []model.Finding
	counts   map[model.Severity]int
	width    int
	height   int
}

func newFindingsView(c *common) *findingsView {
	cols := []column{
		{title: "SEVERITY", min: 7},
		{title: "ID", min: 6, max: 20, prio: 3},
		{title: "SUBJECT", min: 12, max: 40, flex: true, prio: 2},
		{title: "MESSAGE", min: 12, flex: true},
	}
	return &findingsView{c: c, tbl: newTable(c, cols, "✓ no findings: every check passed")}
}

func (v *findingsView) Name() string { return "findings" }

// sortFindings orders findings most severe first, then by id: the order every findings list
// uses.
func sortFindings(fs []model.Finding) []model.Finding {
	out := append([]model.Finding(nil), fs...)
	sort.SliceStable(out, func(i, j int) bool {
		if ri, rj := out[i].Severity.Rank(), out[j].Severity.Rank(); ri != rj {
			return ri > rj
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func (v *findingsView) SetSnapshot(s *model.Snapshot) {
	v.snap = s
	v.findings = sortFindings(s.Findings)
	v.counts = map[model.Severity]int{}
	rows := make([]row, len(v.findings))
	for i, f := range v.findings {
		v.counts[f.Severity]++
		t := severityTone(f.Severity)
		rows[i] = row{
			id:    f.ID + "\x00" + f.Subject,
			cells: []cell{{text: t.symbol() + " " + string(f.Severity), tone: t}, {text: f.ID}, {text: f.Subject}, {text: f.Message}},
			key:   strings.ToLower(string(f.Severity) + " " + f.ID + " " + f.Subject + " " + f.Message + " " + f.Fix),
		}
	}
	v.tbl.SetRows(rows)
	v.resize()
}

func (v *findingsView) Refresh() {}

func (v *findingsView) SetFilter(f string) { v.tbl.SetFilter(f); v.resize() }
func (v *findingsView) Filter() string     { return v.tbl.Filter() }

func (v *findingsView) SetSize(w, h int) {
	v.width, v.height = w, h
	v.resize()
}

// resize gives the selected finding's detail a line more when it offers an action (F).
func (v *findingsView) resize() {
	n := findingDetailLines
	if v.offer() {
		n++
	}
	v.tbl.SetSize(v.width, max(v.height-1-n, 1))
}

// offer says whether the selected finding offers an action.
func (v *findingsView) offer() bool {
	f, ok := v.selectedFinding()
	if !ok || v.snap == nil {
		return false
	}
	_, ok = check.Remedy(f, *v.snap)
	return ok
}

func (v *findingsView) Update(msg tea.KeyPressMsg) tea.Cmd {
	v.tbl.Update(msg)
	v.resize()
	return nil
}

// severityCounts renders "✗ 2 error  ! 1 warning  · 0 info".
func severityCounts(st *Styles, counts map[model.Severity]int) string {
	parts := make([]string, 0, 3)
	for _, s := range []model.Severity{model.SeverityError, model.SeverityWarning, model.SeverityInfo} {
		t := severityTone(s)
		if counts[s] == 0 && s != model.SeverityInfo {
			t = toneOK // "✓ 0 error" reads as the all-clear it is
		}
		parts = append(parts, st.status(t, fmt.Sprintf("%d %s", counts[s], s)))
	}
	return strings.Join(parts, "  ")
}

func (v *findingsView) View() string {
	st := &v.c.styles
	extra := severityCounts(st, v.counts)
	shown, total := v.tbl.Counts()
	if f := v.tbl.Filter(); f != "" {
		extra += " · " + st.Prompt.Render("/"+f) + st.Muted.Render(fmt.Sprintf(" %d of %d", shown, total))
	}
	out := titleBar(v.c, v.width, "Findings", extra, nil) + "\n" + v.tbl.View()
	var detail []string
	if i, ok := v.tbl.SelectedIndex(); ok {
		f := v.findings[i]
		for _, l := range wrap(f.ID+" "+f.Subject+": "+f.Message, v.width-2) {
			detail = append(detail, "  "+l)
		}
		if r, ok := check.Remedy(f, *v.snap); ok {
			offer := "  " + st.Prompt.Render("F") + " " + r.Label + st.Muted.Render(" ("+r.Command+")")
			if v.c.readOnly != "" {
				offer = "  " + st.Muted.Render("fixed by: "+r.Label+" — not offered: "+v.c.readOnly)
			}
			detail = append(detail, truncate(offer, v.width))
		}
		for j, l := range wrap("fix: "+f.Fix, v.width-2) {
			if j == 0 {
				l = st.OK.Render("fix:") + strings.TrimPrefix(l, "fix:")
			}
			detail = append(detail, "  "+l)
		}
	}
	n := findingDetailLines
	if v.offer() {
		n++
	}
	return out + "\n" + padLines(detail, v.width, n)
}

func (v *findingsView) ShortHelp() []key.Binding {
	return listHelp(v.c.keys, v.fixKeys()).ShortHelp()
}
func (v *findingsView) FullHelp() [][]key.Binding {
	return listHelp(v.c.keys, nil, v.c.keys.Fix).FullHelp()
}

// selectedFinding is the finding under the cursor.
func (v *findingsView) selectedFinding() (model.Finding, bool) {
	i, ok := v.tbl.SelectedIndex()
	if !ok {
		return model.Finding{}, false
	}
	return v.findings[i], true
}

// fixKeys is F in the short help while the selected finding offers an action.
func (v *findingsView) fixKeys() []key.Binding {
	if v.offer() && v.c.readOnly == "" {
		return []key.Binding{v.c.keys.Fix}
	}
	return nil
}
