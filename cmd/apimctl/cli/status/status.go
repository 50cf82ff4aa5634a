package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/ops"
)

const defaultProbeTimeout = 10 * time.Second

type statusOptions struct {
	g        *globalOptions
	ios      *IOStreams
	output   string
	timeout  time.Duration
	watch    bool
	interval time.Duration
}

func newStatusCmd(g *globalOptions, ios *IOStreams) *cobra.Command {
	o := &statusOptions{g: g, ios: ios}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "One screenful: topology, pods, HPA, Cassandra, MySQL, traffic and the worst findings",
		Long: `Status observes the whole deployment once — the kube API (topology by role and gateway
group, pods, HPA), the Cassandra ring, the metrics database and Prometheus — each source
within --timeout, and prints one screenful. A source that does not answer is shown with its
error; the others are still shown.

Exit codes: 0 healthy, 3 degraded (a source fails or an error-level finding exists),
1 could not run (the Kubernetes API could not be read).`,
		Example: `  apimctl status
  apimctl status --watch
  apimctl status -o json | jq '.findings[] | select(.severity=="error")'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateOutput(o.output); err != nil {
				return err
			}
			return statusRun(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", "table", "output format: table, json or yaml")
	cmd.Flags().DurationVar(&o.timeout, "timeout", defaultProbeTimeout, "how long to wait for every source to answer")
	cmd.Flags().BoolVarP(&o.watch, "watch", "w", false, "keep watching: redraw (table) or print one JSON document per line")
	cmd.Flags().DurationVar(&o.interval, "interval", 2*time.Second, "with --watch, how often to print")
	return cmd
}

// observe connects, starts the live model and waits (within timeout) until every source has
// answered once.
func observe(ctx context.Context, g *globalOptions, timeout time.Duration) (*ops.Live, context.CancelFunc) {
	live, _, cancel := observeConn(ctx, g, timeout)
	return live, cancel
}

// observeConn is observe that also returns the connection (the clients behind the sources).
func observeConn(ctx context.Context, g *globalOptions, timeout time.Duration) (*ops.Live, *ops.Connection, context.CancelFunc) {
	lctx, cancel := context.WithCancel(ctx)
	cctx, ccancel := context.WithTimeout(ctx, timeout)
	defer ccancel()
	conn := ops.Connect(cctx, g.targets, os.Getenv)
	live := ops.NewLive(conn, ops.LiveOptions{ReadOnly: g.readOnly, CallTimeout: min(4*time.Second, timeout)})
	live.Start(lctx)
	live.WaitAnswered(cctx)
	return live, conn, cancel
}

func statusRun(ctx context.Context, o *statusOptions) error {
	live, cancel := observe(ctx, o.g, o.timeout)
	defer cancel()
	print := func(s ops.Snapshot) error {
		doc := ops.StatusDocument{Health: ops.Verdict(s), Snapshot: &s}
		switch {
		case o.output == "json" && o.watch:
			return json.NewEncoder(o.ios.Out).Encode(doc) // one document per line
		case o.output != "table":
			return writeData(o.ios.Out, o.output, doc)
		}
		if o.watch && o.ios.OutTTY {
			fmt.Fprint(o.ios.Out, "\x1b[H\x1b[2J")
		}
		renderStatus(o.ios.Out, newStyles(o.ios.ColorEnabled()), s, doc.Health)
		return nil
	}
	s := live.Snapshot()
	if err := print(s); err != nil {
		return err
	}
	if o.watch {
		t := time.NewTicker(o.interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
				if o.output == "table" && !o.ios.OutTTY {
					fmt.Fprintln(o.ios.Out)
				}
				s = live.Snapshot()
				if err := print(s); err != nil {
					return err
				}
			}
		}
	}
	switch ops.Verdict(s) {
	case ops.Unknown:
		return &exitError{code: ExitError, err: fmt.Errorf("could not read the deployment from Kubernetes: %s", s.Source(ops.SourceKube).Error),
			hint: "check --kubeconfig/--context (for the lab: eval \"$(apimctl lab env)\")"}
	case ops.Degraded:
		return silentExit(ExitDegraded)
	}
	return nil
}

func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	}
	return fmt.Sprintf("%dh ago", int(d.Hours()))
}

func sourceLine(st styles, now time.Time, s ops.SourceState) string {
	switch {
	case s.Error != "" && !s.Synced:
		return st.bad("✗ "+s.Name) + " " + s.Error
	case s.Error != "":
		return st.bad("✗ "+s.Name) + " " + s.Error + " (data from " + ago(now, s.LastSuccess) + ")"
	case s.Stale:
		return st.warn("! "+s.Name) + " stale, " + ago(now, s.LastSuccess)
	case !s.Synced:
		return st.warn("… "+s.Name) + " no answer yet"
	}
	return st.ok("✓ "+s.Name) + " " + ago(now, s.LastSuccess)
}

func renderStatus(w io.Writer, st styles, s ops.Snapshot, h ops.Health) {
	verdict := map[ops.Health]string{ops.Healthy: st.ok("✓ HEALTHY"), ops.Degraded: st.bad("✗ DEGRADED"), ops.Unknown: st.bad("? UNKNOWN")}[h]
	who := s.Identity
	if who == "" {
		who = "unknown identity"
	}
	ro := ""
	if s.ReadOnly {
		ro = " · read-only"
	}
	fmt.Fprintf(w, "%s  context %s · namespace %s · %s%s\n", verdict, s.Context, s.Namespace, who, ro)
	var srcs []string
	for _, src := range s.Sources {
		srcs = append(srcs, sourceLine(st, s.Taken, src))
	}
	fmt.Fprintf(w, "sources   %s\n\n", strings.Join(srcs, "\n          "))

	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROLE\tGROUP\tWORKLOAD\tREADY\tIMAGE TAG\tSTATE")
	row := func(wl ops.Workload) {
		state := st.ok("✓ ready")
		switch {
		case wl.Ready < wl.Desired && wl.RolloutInProgress:
			state = st.warn(fmt.Sprintf("… rolling out %d/%d updated", wl.Updated, wl.Desired))
		case wl.Ready < wl.Desired:
			state = st.bad(fmt.Sprintf("✗ %d not ready", wl.Desired-wl.Ready))
		case wl.RolloutInProgress:
			state = st.warn(fmt.Sprintf("… rolling out %d/%d updated", wl.Updated, wl.Desired))
		}
		group := wl.Group
		if group == "" {
			group = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s\t%s\n", wl.Role, group, wl.Name, wl.Ready, wl.Desired, wl.Tag, state)
	}
	for _, wl := range s.Topology.ANM {
		row(wl)
	}
	for _, g := range s.Topology.Groups {
		for _, wl := range g.APIManager {
			row(wl)
		}
		for _, wl := range g.Traffic {
			row(wl)
		}
	}
	tw.Flush()
	if len(s.Topology.ANM) == 0 && len(s.Topology.Groups) == 0 {
		fmt.Fprintln(w, "  (no API management workloads found in this namespace)")
	}
	fmt.Fprintln(w)
	for _, g := range s.Topology.Groups {
		if g.HPA == nil {
			continue
		}
		hp := g.HPA
		cpu := "?"
		if hp.CPUCurrentPercent != nil {
			cpu = fmt.Sprintf("%d%%", *hp.CPUCurrentPercent)
		}
		desired := fmt.Sprint(hp.Desired)
		if hp.Desired == 0 && hp.CPUCurrentPercent == nil {
			desired = "?"
		}
		line := fmt.Sprintf("hpa       %s → deployment/%s: %d replicas, desired %s (min %d, max %d), cpu %s of %d%% target", hp.Name, hp.Target, hp.Current, desired, hp.Min, hp.Max, cpu, hp.CPUTargetPercent)
		for _, c := range hp.Conditions {
			if c.Status == "False" && (c.Type == "ScalingActive" || c.Type == "AbleToScale") {
				line += " " + st.warn("! "+c.Reason)
			}
		}
		fmt.Fprintln(w, line)
	}
	// Cassandra
	up := 0
	for _, n := range s.Cassandra.Nodes {
		if n.Up {
			up++
		}
	}
	var nodes []string
	for _, n := range s.Cassandra.Nodes {
		mark := st.ok("✓")
		if !n.Up {
			mark = st.bad("✗ down")
		}
		nodes = append(nodes, fmt.Sprintf("%s %s/%s %s", n.Address, n.DC, n.Rack, mark))
	}
	schema := "schema agreed"
	if s.Cassandra.SchemaVersions > 1 {
		schema = st.warn(fmt.Sprintf("! %d schema versions", s.Cassandra.SchemaVersions))
	}
	fmt.Fprintf(w, "cassandra %d/%d nodes up · %s\n", up, len(s.Cassandra.Nodes), schema)
	if len(nodes) > 0 {
		fmt.Fprintf(w, "          %s\n", strings.Join(nodes, " · "))
	}
	for _, k := range s.Cassandra.Keyspaces {
		q := st.ok("QUORUM ✓ reachable")
		if !k.QuorumReachable {
			q = st.bad(fmt.Sprintf("QUORUM ✗ lost (%d of %d replicas up)", k.ReplicasUp, k.Quorum))
		}
		fmt.Fprintf(w, "          %s %s RF %d · %s\n", k.Name, k.Strategy, k.ReplicationFactor, q)
	}
	// MySQL
	if m := s.MySQL; m.Reachable {
		tls := st.warn("TLS off")
		if m.TLS {
			tls = "TLS " + m.TLSVersion
		}
		line := fmt.Sprintf("mysql     %s %s · up %s · %d/%d connections · %s · %s", st.ok("✓"), m.Version, m.Uptime.Round(time.Second), m.ThreadsConnected, m.MaxConnections, tls, ops.HumanBytes(m.DatabaseSizeBytes))
		if r := m.Replica; r != nil {
			lag := "?"
			if r.LagSeconds != nil {
				lag = fmt.Sprintf("%ds", *r.LagSeconds)
			}
			line += fmt.Sprintf(" · replica io=%v sql=%v lag %s", r.IORunning, r.SQLRunning, lag)
		}
		fmt.Fprintln(w, line)
	} else {
		fmt.Fprintf(w, "mysql     %s %s\n", st.bad("✗ unreachable"), s.Source(ops.SourceMySQL).Error)
	}
	// Traffic
	switch {
	case s.Traffic.NoData || len(s.Traffic.Groups) == 0:
		fmt.Fprintln(w, "traffic   no data yet")
	default:
		for i, g := range s.Traffic.Groups {
			label := "traffic  "
			if i > 0 {
				label = "         "
			}
			fmt.Fprintf(w, "%s %s: %.1f req/s · p90 %.0f ms · 5xx %.2f%%\n", label, g.Group, g.RPS, g.P90Seconds*1000, g.ErrorRatio*100)
		}
	}
	// Findings
	count := map[ops.Severity]int{}
	for _, f := range s.Findings {
		count[f.Severity]++
	}
	fmt.Fprintf(w, "\nfindings  %s, %s, %s\n", counted(count[ops.SeverityError], "error"),
		counted(count[ops.SeverityWarning], "warning"), counted(count[ops.SeverityInfo], "note"))
	shown := 0
	for _, f := range s.Findings {
		if f.Severity == ops.SeverityInfo || shown == 6 {
			continue
		}
		mark := st.warn("! warning")
		if f.Severity == ops.SeverityError {
			mark = st.bad("✗ error  ")
		}
		fmt.Fprintf(w, "  %s %-9s %s\n", mark, f.ID, oneLine(f.Message, 110))
		shown++
	}
	if n := count[ops.SeverityError] + count[ops.SeverityWarning] - shown; n > 0 {
		fmt.Fprintf(w, "  … %d more: apimctl check\n", n)
	}
}

// oneLine cuts s to n runes with an ellipsis.
func oneLine(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// counted is "1 error", "2 errors".
func counted(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
