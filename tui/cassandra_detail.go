package tui

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/apimctl/apimctl/internal/format"
	"github.com/apimctl/apimctl/ops/model"
)

// cassandraDetail is one Cassandra node drilled into: its state as each node sees it, load,
// ownership, schema, backlogs, latencies and clients.
type cassandraDetail struct {
	loader
	addr string
	d    *model.CassandraNodeDetail
}

func newCassandraDetail(c *common, ins CassandraInspector, ref model.Ref) *cassandraDetail {
	v := &cassandraDetail{addr: ref.Name}
	v.loader = newLoader(c, func(ctx context.Context) (any, error) { return ins.CassandraNode(ctx, ref.Name) })
	v.self = v
	return v
}

func (v *cassandraDetail) Name() string     { return "cassandra node" }
func (v *cassandraDetail) Crumb() string    { return v.addr }
func (v *cassandraDetail) SetSize(w, h int) { v.setSize(w, h); v.rebuild() }
func (v *cassandraDetail) View() string {
	return v.view("Cassandra node "+v.addr, "", v.d != nil)
}

func (v *cassandraDetail) Loaded(msg detailMsg) tea.Cmd {
	return loaded(&v.loader, msg, &v.d, v.rebuild)
}

// shortID is the start of a UUID, enough to tell versions apart.
func shortID(id string) string {
	if len(id) > 8 {
		return id[:8] + "…"
	}
	return id
}

// fmtLatency shows a latency in ms, or µs below a millisecond (a local read from memory
// takes microseconds).
func fmtLatency(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%d µs", d.Microseconds())
	}
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

func (v *cassandraDetail) rebuild() {
	if v.d == nil || v.width == 0 {
		return
	}
	st := &v.c.styles
	d := v.d
	w := v.width
	lines := v.reloadFailed() // a reload that failed leaves the last data, with why
	n := d.Node
	state := st.status(toneOK, "up")
	if d.Unreachable != "" {
		state = st.status(toneBad, "unreachable")
	}
	status := d.Status
	if status == "" {
		status = "?"
	}
	lines = append(lines, "  "+state+"  "+st.Label.Render("gossip ")+status+"  "+
		st.Label.Render("dc ")+orDash(n.DC)+st.Label.Render("  rack ")+orDash(n.Rack)+
		st.Label.Render("  version ")+orDash(n.Version)+st.Label.Render("  host ")+orDash(shortID(n.HostID)))
	if d.Unreachable != "" {
		lines = append(lines, "  "+st.Bad.Render("✗ "+d.Unreachable)+st.Muted.Render(" — shown as its peers see it"))
	}
	own := fmt.Sprintf("%.1f %%", d.OwnershipPercent)
	if d.EffectiveKeyspace != "" {
		own += fmt.Sprintf(" (effective %.1f %% of %s)", d.EffectiveOwnershipPercent, d.EffectiveKeyspace)
	}
	schema, schTone := "schema disagreement", toneBad
	if d.SchemaAgreed {
		schema, schTone = "schema agreed", toneOK
	}
	lines = append(lines, kv(st, 2, w, [][2]string{
		{"load", format.Bytes(d.LoadBytes) + st.Label.Render("   tokens ") + strconv.Itoa(d.Tokens) + st.Label.Render("   owns ") + own},
		{"schema", st.status(schTone, schema) + st.Muted.Render(" "+orDash(shortID(d.SchemaVersion)))},
	})...)
	if d.Unreachable == "" {
		comp := fmt.Sprintf("%d pending, %d running", d.PendingCompactions, len(d.Compactions))
		ct := toneOK
		if d.PendingCompactions > 0 {
			ct = toneWarn
		}
		lines = append(lines, kv(st, 2, w, [][2]string{
			{"compactions", st.paint(ct, comp)},
			{"latency p99", st.Label.Render("read ") + fmtLatency(d.ReadLatencyP99) + st.Label.Render("   write ") + fmtLatency(d.WriteLatencyP99) + st.Muted.Render("   (worst table)")},
		})...)
	}

	// The ring as each node that answered sees it: one row per observer.
	lines = append(lines, "", st.PanelTitle.Render("Ring as each node sees it"))
	var peers, observers []string
	seenP, seenO := map[string]bool{}, map[string]bool{}
	views := map[[2]string]model.PeerView{}
	for _, p := range d.Peers {
		if !seenP[p.Peer] {
			seenP[p.Peer] = true
			peers = append(peers, p.Peer)
		}
		if !seenO[p.Observer] {
			seenO[p.Observer] = true
			observers = append(observers, p.Observer)
		}
		views[[2]string{p.Observer, p.Peer}] = p
	}
	sort.Strings(peers)
	sort.Strings(observers)
	if len(observers) == 0 {
		lines = append(lines, "  "+st.Muted.Render("no node answered"))
	} else {
		heads := append([]string{"SEEN BY ↓"}, peers...)
		var rows [][]cell
		for _, o := range observers {
			r := []cell{{text: o}}
			for _, p := range peers {
				pv, ok := views[[2]string{o, p}]
				switch {
				case !ok:
					r = append(r, cell{text: "·", tone: toneMuted})
				case pv.Up:
					r = append(r, cell{text: "✓ " + pv.State, tone: toneOK})
				default:
					r = append(r, cell{text: "✗ " + pv.State, tone: toneBad})
				}
			}
			rows = append(rows, r)
		}
		lines = append(lines, grid(st, 2, w, heads, rows)...)
	}
	if d.Unreachable == "" {
		lines = append(lines, "", st.PanelTitle.Render("Thread pools")+st.Muted.Render("  backlogs first"))
		var rows [][]cell
		for i, p := range d.ThreadPools {
			if i >= 8 && p.Pending == 0 && p.Blocked == 0 && p.Active == 0 {
				break
			}
			t := toneNone
			if p.Blocked > 0 {
				t = toneBad
			} else if p.Pending > 0 {
				t = toneWarn
			}
			rows = append(rows, []cell{{text: p.Name, tone: t}, {text: strconv.FormatInt(p.Active, 10)}, {text: strconv.FormatInt(p.Pending, 10), tone: t},
				{text: strconv.FormatInt(p.Blocked, 10), tone: t}, {text: strconv.FormatInt(p.AllTimeBlocked, 10), tone: toneMuted}})
		}
		lines = append(lines, grid(st, 2, w, []string{"POOL", "ACTIVE", "PENDING", "BLOCKED", "EVER BLOCKED"}, rows)...)
		if len(d.Compactions) > 0 {
			lines = append(lines, "", st.PanelTitle.Render("Compactions running"))
			var rows [][]cell
			for _, c := range d.Compactions {
				rows = append(rows, []cell{{text: c.Keyspace + "." + c.Table}, {text: c.Kind}, {text: fmt.Sprintf("%.0f %%", c.Percent)}})
			}
			lines = append(lines, grid(st, 2, w, []string{"TABLE", "KIND", "DONE"}, rows)...)
		}
		var tables [][]cell
		for _, t := range d.Tables {
			tables = append(tables, []cell{{text: t.Keyspace + "." + t.Table}, {text: fmtRate(t.ReadsPerSecond)}, {text: fmtLatency(t.ReadP99)},
				{text: fmtRate(t.WritesPerSec)}, {text: fmtLatency(t.WriteP99)}})
		}
		lines = append(lines, gridSection(st, w, st.PanelTitle.Render("Busiest tables"), []string{"TABLE", "READS/S", "READ P99", "WRITES/S", "WRITE P99"},
			tables, st.Muted.Render("no user table served a request"))...)
		var clients [][]cell
		for _, c := range d.Clients {
			tls := "plain"
			if c.SSL {
				tls = "TLS"
			}
			clients = append(clients, []cell{{text: c.Address}, {text: orDash(c.User)}, {text: strconv.Itoa(c.Connections)}, {text: strconv.FormatInt(c.Requests, 10)}, {text: tls, tone: toneMuted}, {text: orDash(c.Driver), tone: toneMuted}})
		}
		lines = append(lines, gridSection(st, w, st.PanelTitle.Render("Clients"), []string{"ADDRESS", "USER", "CONNS", "REQUESTS", "TLS", "DRIVER"},
			clients, st.Muted.Render("no client connected"))...)
	}
	if len(d.Problems) > 0 {
		lines = append(lines, "", st.PanelTitle.Render("Not read"))
		for _, p := range d.Problems {
			lines = append(lines, truncate("  "+st.Warn.Render("! "+strings.TrimSpace(p)), w))
		}
	}
	v.pager.SetLines(lines)
}
