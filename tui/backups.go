package tui

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/apimctl/apimctl/internal/format"
	"github.com/apimctl/apimctl/ops"
)

// backupsDialog is V: the backups of the console's directory, newest first, and what
// `apimctl backup` does with them — verify the selected one (v or enter: a read, so it runs
// at once and in read-only mode too, with its progress in a panel), restore it (r: a form
// for the target, then the plan), prune (p: how many to keep, then the plan that lists what
// goes), or back up now (c, as B).
type backupsDialog struct {
	m       *Model
	bk      BackupKeeper
	loading bool
	err     string
	list    *ops.Backups
	tableDialog
}

func (m *Model) openBackups() tea.Cmd {
	bk, ok := m.actions.(BackupKeeper)
	if !ok || m.snap == nil {
		m.message = "backups are not available here"
		return nil
	}
	d := &backupsDialog{m: m, bk: bk, tableDialog: tableDialog{tbl: newTable(m.c, []column{
		{title: "ID", min: 12, flex: true},
		{title: "AGE", min: 4, age: true},
		{title: "FILES", min: 5, right: true, prio: 2},
		{title: "SIZE", min: 6, right: true, prio: 1},
		{title: "STATE", min: 8, flex: true, prio: 3},
	}, "no backups yet: c (or B) backs up now")}}
	return m.openDialog(d, d.load(m))
}

func (d *backupsDialog) load(m *Model) tea.Cmd {
	d.loading, d.err = true, ""
	ctx := m.ctx
	return loadFor(d, func() (any, error) { return d.bk.Backups(ctx) })
}

func (d *backupsDialog) Loaded(_ *Model, msg dialogMsg) tea.Cmd {
	d.loading = false
	if msg.err != nil {
		d.err = msg.err.Error()
		return nil
	}
	d.list = msg.data.(*ops.Backups)
	rows := make([]row, 0, len(d.list.List))
	for _, b := range d.list.List {
		state, t := "complete", toneOK
		if !b.Complete {
			state, t = "unfinished: "+b.Problem, toneWarn
		}
		rows = append(rows, row{id: b.ID, time: b.Created, key: strings.ToLower(b.ID + " " + state),
			cells: []cell{{text: b.ID}, {}, {text: fmt.Sprint(b.Files)}, {text: format.Bytes(b.Bytes)}, {text: t.symbol() + " " + state, tone: t}}})
	}
	d.tbl.SetRows(rows)
	return nil
}

func (d *backupsDialog) typing() bool { return false }

func (d *backupsDialog) selected() (ops.Backup, bool) {
	if d.list == nil {
		return ops.Backup{}, false
	}
	return selectedIn(d.tbl, d.list.List, func(b ops.Backup) string { return b.ID })
}

func (d *backupsDialog) Update(m *Model, msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "esc":
		m.dialog = nil
		return nil
	case "v", "enter":
		b, ok := d.selected()
		if !ok {
			return nil
		}
		if !b.Complete {
			m.message, m.messageErr = b.ID+" is unfinished (no manifest): nothing to verify", true
			return nil
		}
		bk, id := d.bk, b.ID
		j := newSubjectJob("verify", "verify", id, "Verify · "+id, "reading the manifest…", "nothing read")
		return m.propose(j, func(ctx context.Context, progress func(string)) (*ops.Proposal, error) {
			return bk.ProposeVerify(ctx, id, progress)
		})
	case "r":
		b, ok := d.selected()
		if !ok {
			return nil
		}
		if ok, why := m.canChange("restore", ""); !ok {
			m.message, m.messageErr = why, true
			return nil
		}
		m.dialog = restoreForm(m, d.bk, b)
		return nil
	case "p":
		if ok, why := m.canChange("prune", ""); !ok {
			m.message, m.messageErr = why, true
			return nil
		}
		m.dialog = pruneForm(m, d.bk, d.list)
		return nil
	case "c":
		m.dialog = nil
		return m.startBackup()
	}
	d.tbl.Update(msg)
	return nil
}

func (d *backupsDialog) View(m *Model, w, h int) string {
	st := &m.c.styles
	extra := ""
	if d.list != nil {
		extra = d.list.Dir
	}
	if d.loading {
		extra = st.status(toneBusy, "loading")
	}
	foot := errorFoot(st, d.err)
	if ok, why := m.canChange("changes", ""); !ok {
		foot = append(foot, "  "+st.Muted.Render(why+"; verifying reads only, so v is offered"))
	}
	return d.frame(titleBar(m.c, w, "Backups", extra, nil), foot, w, h)
}

func (d *backupsDialog) keys() []key.Binding {
	k := d.m.c.keys
	b := []key.Binding{k.Move, key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "verify"))}
	if ok, _ := d.m.canChange("changes", ""); ok {
		b = append(b, key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "restore")),
			key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "prune")),
			key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "back up now")))
	}
	return append(b, key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close")))
}

func (d *backupsDialog) ShortHelp() []key.Binding  { return d.keys() }
func (d *backupsDialog) FullHelp() [][]key.Binding { return [][]key.Binding{d.keys()} }

// pruneForm asks how many complete backups to keep; the plan lists what is deleted.
func pruneForm(m *Model, bk BackupKeeper, list *ops.Backups) *form {
	complete := 0
	if list != nil {
		for _, b := range list.List {
			if b.Complete {
				complete++
			}
		}
	}
	f := newForm("Prune backups", "prune cancelled: nothing deleted", func(m *Model, f *form) tea.Cmd {
		keep, err := strconv.Atoi(f.value("keep"))
		if err != nil || keep < 1 {
			f.setError(fmt.Sprintf("keep %q: a number of backups, at least 1", f.value("keep")))
			return nil
		}
		j := newSubjectJob("prune", "delete them", "", fmt.Sprintf("Prune backups · keep the newest %d", keep), "listing the backups…", "nothing deleted")
		j.form = f
		return m.propose(j, func(ctx context.Context, progress func(string)) (*ops.Proposal, error) {
			return bk.ProposePrune(ctx, keep, progress)
		})
	})
	if list != nil {
		f.intro = []string{fmt.Sprintf("%s holds %s; prune keeps the newest and deletes the older ones (and older unfinished ones).",
			list.Dir, format.Counted(complete, "complete backup"))}
	}
	return f.field(m.c, "keep", "keep newest", "how many complete backups to keep, e.g. 7", "", false, false)
}

// restoreForm asks where a backup is restored to, as `apimctl backup restore`'s flags do.
func restoreForm(m *Model, bk BackupKeeper, b ops.Backup) *form {
	f := newForm("Restore · "+b.ID, "restore cancelled: nothing restored", func(m *Model, f *form) tea.Cmd {
		req := ops.RestoreRequest{Backup: b.ID, Namespace: f.value("namespace"), KeyspaceMap: f.values("keyspaces"),
			Database: f.value("database"), Identity: f.value("identity"), Replication: f.value("replication"),
			Registry: f.values("registry"), Only: f.values("only")}
		j := newSubjectJob("restore", "restore", b.ID, "Restore · "+b.ID, "verifying the backup and planning…", "nothing restored")
		j.form = f
		return m.propose(j, func(ctx context.Context, progress func(string)) (*ops.Proposal, error) {
			return bk.ProposeRestore(ctx, req, progress)
		})
	})
	f.intro = []string{fmt.Sprintf("backup %s: %d files, %s, into this console's context (the DR site's, typically)", b.ID, b.Files, format.Bytes(b.Bytes)),
		"Empty fields keep the backup's own names. Restoring overwrites tables and objects of the same name."}
	return f.field(m.c, "namespace", "namespace", "target namespace (default: the backup's)", "", false, false).
		field(m.c, "keyspaces", "keyspace map", "FROM=TO, … (default: the same names)", "", false, true).
		field(m.c, "database", "database", "target MySQL database (default: METRICS_DB_URL's)", "", false, false).
		field(m.c, "identity", "identity file", "age identity that decrypts the Secrets, e.g. ~/.config/apimctl/backup.key", "", true, false).
		field(m.c, "replication", "replication", "CQL replication map (default: the backup's)", "", false, false).
		field(m.c, "registry", "registry", "OLD=NEW, … (images moved to another registry)", "", false, true).
		field(m.c, "only", "only", "cassandra, mysql, kube (default: all)", "", false, true)
}
