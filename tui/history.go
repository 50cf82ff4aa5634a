package tui

import (
	"context"
	"fmt"
	"strconv"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/apimctl/apimctl/ops"
	"github.com/apimctl/apimctl/ops/model"
)

// historyDialog is H: the revisions of a gateway group's Deployment — image, age, pods,
// change cause, newest first — with the changes `apimctl rollout` makes: undo to the
// selected revision (u or enter), pause or resume (p), restart (r). It is for the traffic
// gateways of the group the pods view shows (else the first group); tab switches to the
// group's API Manager and to the Admin Node Manager. Each change is a job: its panel shows
// the plan and waits for y.
type historyDialog struct {
	m       *Model
	rv      RolloutVerbs
	role    string
	group   string
	loading bool
	err     string
	hist    *ops.History
	tableDialog
}

// historyRoles are the Deployments tab cycles through.
var historyRoles = []string{model.RoleTraffic, model.RoleAPIManager, model.RoleANM}

func (m *Model) openHistory() tea.Cmd {
	rv, ok := m.actions.(RolloutVerbs)
	if !ok || m.snap == nil {
		m.message = "rollout history is not available here"
		return nil
	}
	g, ok := m.rolloutGroup()
	if !ok {
		m.message, m.messageErr = "no gateway group to show the history of", true
		return nil
	}
	d := &historyDialog{m: m, rv: rv, role: model.RoleTraffic, group: g, tableDialog: tableDialog{tbl: newTable(m.c, []column{
		{title: "REVISION", min: 8},
		{title: "IMAGE", min: 12, flex: true, middle: true},
		{title: "AGE", min: 4, age: true, prio: 2},
		{title: "PODS", min: 4, right: true, prio: 1},
		{title: "CHANGE CAUSE", min: 12, flex: true, prio: 3},
	}, "no revisions")}}
	return m.openDialog(d, d.load(m))
}

// load reads the history of the dialog's Deployment (a read, as `rollout history`).
func (d *historyDialog) load(m *Model) tea.Cmd {
	d.loading, d.err = true, ""
	snap, ctx, role, group := *m.snap, m.ctx, d.role, d.group
	return loadFor(d, func() (any, error) { return d.rv.History(ctx, snap, role, group) })
}

func (d *historyDialog) Loaded(m *Model, msg dialogMsg) tea.Cmd {
	d.loading = false
	if msg.err != nil {
		d.err, d.hist = msg.err.Error(), nil
		d.tbl.SetRows(nil)
		return nil
	}
	d.hist = msg.data.(*ops.History)
	rows := make([]row, 0, len(d.hist.Revisions))
	for i := len(d.hist.Revisions) - 1; i >= 0; i-- { // newest first
		r := d.hist.Revisions[i]
		rev := strconv.FormatInt(r.Revision, 10)
		t := toneNone
		if r.Current {
			rev, t = rev+" ▸ now", toneOK
		}
		rows = append(rows, row{id: strconv.FormatInt(r.Revision, 10), time: r.Created, key: rev + " " + r.Image + " " + r.ChangeCause,
			cells: []cell{{text: rev, tone: t}, {text: r.Image}, {}, {text: fmt.Sprint(r.Replicas)}, {text: orDash(r.ChangeCause)}}})
	}
	d.tbl.SetRows(rows)
	return nil
}

func (d *historyDialog) typing() bool { return false }

// selected is the revision under the cursor.
func (d *historyDialog) selected() (model.Revision, bool) {
	if d.hist == nil {
		return model.Revision{}, false
	}
	return selectedIn(d.tbl, d.hist.Revisions, func(r model.Revision) string { return strconv.FormatInt(r.Revision, 10) })
}

func (d *historyDialog) subject() string {
	if d.hist != nil {
		return "deployment/" + d.hist.Deployment
	}
	return d.role + " of group " + d.group
}

func (d *historyDialog) Update(m *Model, msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "esc":
		m.dialog = nil
		return nil
	case "tab":
		for i, r := range historyRoles {
			if r == d.role {
				d.role = historyRoles[(i+1)%len(historyRoles)]
				break
			}
		}
		return d.load(m)
	case "u", "enter":
		rev, ok := d.selected()
		switch {
		case !ok:
			return nil
		case rev.Current:
			m.message = fmt.Sprintf("revision %d is the current one: choose an earlier one to return to", rev.Revision)
			return nil
		}
		return d.start(m, "undo", model.ActionUndo, func(ctx context.Context, s model.Snapshot, progress func(string)) (*ops.Proposal, error) {
			return d.rv.ProposeUndo(ctx, s, d.role, d.group, rev.Revision, progress)
		})
	case "p":
		verb := "pause"
		if d.hist != nil && d.hist.Paused {
			verb = "resume"
		}
		return d.start(m, verb, "rollout."+verb, d.verb(verb))
	case "r":
		return d.start(m, "restart", model.ActionRestart, d.verb("restart"))
	}
	d.tbl.Update(msg)
	return nil
}

func (d *historyDialog) verb(verb string) func(ctx context.Context, s model.Snapshot, progress func(string)) (*ops.Proposal, error) {
	role, group := d.role, d.group
	return func(ctx context.Context, s model.Snapshot, progress func(string)) (*ops.Proposal, error) {
		return d.rv.ProposeRolloutVerb(ctx, s, verb, role, group, progress)
	}
}

// start asks ops for the change's proposal as a job, unless the console offers no change.
func (d *historyDialog) start(m *Model, verb, action string, propose func(context.Context, model.Snapshot, func(string)) (*ops.Proposal, error)) tea.Cmd {
	if d.hist == nil {
		return nil
	}
	if ok, why := m.canChange(verb+" "+d.subject(), model.ActionAccess(action)); !ok {
		m.message, m.messageErr = why, true
		return nil
	}
	snap := *m.snap
	j := newSubjectJob(verb, verb, d.subject(), titleWord(verb)+" · "+d.subject(), "asking the API server…", "nothing changed")
	j.form = d
	return m.propose(j, func(ctx context.Context, progress func(string)) (*ops.Proposal, error) {
		return propose(ctx, snap, progress)
	})
}

func (d *historyDialog) setError(s string) { d.err = s }

func (d *historyDialog) View(m *Model, w, h int) string {
	st := &m.c.styles
	extra := d.role + " · group " + d.group
	switch {
	case d.loading:
		extra += " · " + st.status(toneBusy, "loading")
	case d.hist != nil && d.hist.Paused:
		extra += " · " + st.status(toneWarn, "paused")
	}
	foot := errorFoot(st, d.err)
	if d.hist != nil {
		state := "rolling updates run"
		if d.hist.Paused {
			state = "paused: changes wait until resume (p)"
		}
		foot = append(foot, "  "+st.Muted.Render(fmt.Sprintf("deployment %s/%s · %s", d.hist.Namespace, d.hist.Deployment, state)))
		if ok, why := m.canChange("changes", ""); !ok {
			foot = append(foot, "  "+st.Muted.Render(why))
		}
	}
	return d.frame(titleBar(m.c, w, "Rollout history · "+d.subject(), extra, nil), foot, w, h)
}

func (d *historyDialog) ShortHelp() []key.Binding  { return d.keys() }
func (d *historyDialog) FullHelp() [][]key.Binding { return [][]key.Binding{d.keys()} }

func (d *historyDialog) keys() []key.Binding {
	m := d.m
	k := m.c.keys
	b := []key.Binding{k.Move}
	if ok, _ := m.canChange("changes", ""); ok && d.hist != nil {
		pause := "pause"
		if d.hist.Paused {
			pause = "resume"
		}
		b = append(b, key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "undo to it")),
			key.NewBinding(key.WithKeys("p"), key.WithHelp("p", pause)),
			key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "restart")))
	}
	return append(b, key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "role")),
		key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close")))
}
