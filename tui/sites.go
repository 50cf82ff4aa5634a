package tui

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/apimctl/apimctl/internal/format"
	"github.com/apimctl/apimctl/ops/model"
)

// Primary and DR side by side: with more than one site (--context twice, or contexts in the
// config file) the sites view compares them — which serves, the newest restorable backup of
// each and its age, the images and the Cassandra tables that differ, the DR readiness
// findings — as `apimctl status` does with two contexts (model.CompareSites).

// Site is a further site of the console: its context, its live feed and the keyspaces of its
// gateway group.
type Site struct {
	Context          string
	Feed             Feed
	Keyspace         string
	ThrottleKeyspace string
}

type (
	// siteSnapshotMsg is a further site's newest snapshot.
	siteSnapshotMsg struct {
		i    int
		snap model.Snapshot
	}
	// backupsMsg carries the restorable backups.
	backupsMsg []model.BackupRef
)

// waitForSite drains site i's feed, one snapshot at a time.
func waitForSite(i int, ch <-chan model.Snapshot) tea.Cmd {
	return func() tea.Msg {
		s, ok := <-ch
		if !ok {
			return nil
		}
		return siteSnapshotMsg{i, s}
	}
}

// sitesView is the comparison of the console's sites.
type sitesView struct {
	c      *common
	pager  pager
	width  int
	height int

	primary  *model.Snapshot
	keyspace [2]string // the primary's group and throttle keyspaces
	others   []Site
	snaps    []*model.Snapshot // of others, nil until each answers
	backups  []model.BackupRef
	compared model.SiteComparison
}

func newSitesView(c *common) *sitesView {
	return &sitesView{c: c, pager: pager{c: c}}
}

func (v *sitesView) Name() string { return "sites" }

func (v *sitesView) SetSnapshot(s *model.Snapshot) { v.primary = s; v.rebuild() }

// setSite records a further site's snapshot.
func (v *sitesView) setSite(i int, s model.Snapshot) {
	if i >= 0 && i < len(v.snaps) {
		v.snaps[i] = &s
		v.rebuild()
	}
}

func (v *sitesView) setBackups(b []model.BackupRef) { v.backups = b; v.rebuild() }

func (v *sitesView) Refresh() { v.rebuild() }

func (v *sitesView) SetSize(w, h int) {
	v.width, v.height = w, h
	v.pager.SetSize(w, max(h-1, 1))
}

func (v *sitesView) Update(msg tea.KeyPressMsg) tea.Cmd {
	v.pager.Update(msg)
	return nil
}

func (v *sitesView) View() string {
	return titleBar(v.c, v.width, "Sites", format.Counted(1+len(v.others), "site"), nil) + "\n" + v.pager.View()
}

func (v *sitesView) ShortHelp() []key.Binding  { return pagerHelp(v.c.keys).ShortHelp() }
func (v *sitesView) FullHelp() [][]key.Binding { return pagerHelp(v.c.keys).FullHelp() }

func (v *sitesView) rebuild() {
	st := &v.c.styles
	if v.primary == nil {
		return
	}
	if len(v.others) == 0 {
		v.pager.SetLines([]string{"",
			"  " + st.Muted.Render("one site: give --context twice (the primary, then the DR site), or list both as"),
			"  " + st.Muted.Render("contexts in ~/.config/apimctl/config.yaml, to see them side by side here.")})
		return
	}
	sites := []model.Site{{Context: v.primary.Context, Snapshot: *v.primary, Keyspace: v.keyspace[0], ThrottleKeyspace: v.keyspace[1]}}
	for i, o := range v.others {
		s := model.Snapshot{Context: o.Context, Sources: []model.SourceState{{Name: model.SourceKube, Error: "no answer yet"}}}
		if v.snaps[i] != nil {
			s = *v.snaps[i]
		}
		sites = append(sites, model.Site{Context: o.Context, Snapshot: s, Keyspace: o.Keyspace, ThrottleKeyspace: o.ThrottleKeyspace})
	}
	v.compared = model.CompareSites(sites, v.backups, v.c.now)
	v.pager.SetLines(v.lines())
}

func (v *sitesView) lines() []string {
	st := &v.c.styles
	c := v.compared
	ctxW := 7
	for _, s := range c.Sites {
		ctxW = max(ctxW, width(s.Context))
	}
	out := []string{st.Column.Render(fit("SITE", ctxW) + "  " + fit("HEALTH", 10) + "  " + fit("SERVING", 10) + "  " + fitRight("REQ/S", 8) + "  " + fit("NEWEST BACKUP", 24) + "  AGE")}
	for _, s := range c.Sites {
		serving := st.status(toneMuted, "standby")
		if s.Serving {
			serving = st.status(toneOK, "serving")
		}
		health := st.status(healthTone(s.Health), string(s.Health))
		b, age := "-", "-"
		if s.NewestBackup != nil {
			b, age = s.NewestBackup.ID, format.Age(time.Duration(s.BackupAgeSeconds*float64(time.Second)))
		}
		out = append(out, fit(s.Context, ctxW)+"  "+fit(health, 10)+"  "+fit(serving, 10)+"  "+fitRight(fmt.Sprintf("%.1f", s.RPS), 8)+"  "+fit(b, 24)+"  "+age)
	}
	out = append(out, "")
	drift := append(append([]model.Drift{}, c.ImageDrift...), c.SchemaDrift...)
	if len(drift) == 0 {
		out = append(out, st.status(toneOK, "no drift: the sites run the same images and the same Cassandra tables"))
	}
	for _, d := range drift {
		var vals []string
		for _, k := range sortedSites(d.Values) {
			vals = append(vals, k+" "+format.OrDash(d.Values[k]))
		}
		out = append(out, st.status(toneWarn, "drift")+" "+d.What+st.Muted.Render(": "+strings.Join(vals, " · ")))
	}
	out = append(out, "", st.PanelTitle.Render("DR readiness"))
	if len(c.Findings) == 0 {
		out = append(out, st.status(toneOK, "the DR site is ready: no drift, a fresh backup to restore"))
	}
	for _, f := range c.Findings {
		t := severityTone(f.Severity)
		out = append(out, st.paint(t, t.symbol()+" "+f.ID)+" "+f.Subject+": "+f.Message, "    "+st.Muted.Render("fix: "+f.Fix))
	}
	return out
}

func healthTone(h model.Health) tone {
	switch h {
	case model.Healthy:
		return toneOK
	case model.Degraded:
		return toneBad
	}
	return toneWarn
}

func sortedSites(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
func (m *Model) newSites(c *common, opts Options) *sitesView {
	v := newSitesView(c)
	v.others, v.keyspace = opts.Sites, opts.Keyspaces
	v.snaps = make([]*model.Snapshot, len(opts.Sites))
	m.sites = v
	return v
}

// backupsEvery is how many seconds apart the restorable backups are listed again.
const backupsEvery = 60

// loadBackups lists the restorable backups in a command (only with further sites).
func (m *Model) loadBackups() tea.Cmd {
	list := m.opts.Backups
	if list == nil || len(m.opts.Sites) == 0 {
		return nil
	}
	return func() tea.Msg {
		b, err := list()
		if err != nil {
			return nil
		}
		return backupsMsg(b)
	}
}
