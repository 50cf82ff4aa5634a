package status

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	"github.com/apimctl/apimctl/cmd/apimctl/cli/iostreams"
	"github.com/apimctl/apimctl/internal/format"
	"github.com/apimctl/apimctl/ops/model"
)

// DefaultTimeout is how long the read commands wait for every source to answer.
const DefaultTimeout = 10 * time.Second

// StatusOptions are status's dependencies and flags.
type StatusOptions struct {
	IO      *iostreams.IOStreams
	Observe func(ctx context.Context, timeout time.Duration) (cmdutil.Observation, error)
	// Contexts, Sites and Backups serve the primary-and-DR view (more than one --context).
	Contexts []string
	Sites    func(ctx context.Context, timeout time.Duration) ([]cmdutil.Site, error)
	Backups  func() ([]model.BackupRef, error)
	Now      func() time.Time

	Output   string
	Timeout  time.Duration
	Watch    bool
	Interval time.Duration
}

// NewCmdStatus is `apimctl status`; runF replaces the run in tests of the flags.
func NewCmdStatus(f *cmdutil.Factory, runF func(context.Context, *StatusOptions) error) *cobra.Command {
	o := &StatusOptions{IO: f.IOStreams, Observe: f.Observe, Sites: f.Sites, Backups: f.Backups, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "One screenful: topology, pods, HPA, Cassandra, MySQL, traffic and the worst findings",
		Long: `Status observes the whole deployment once — the kube API (topology by role and gateway
group, pods, HPA), the Cassandra ring, the metrics database and Prometheus — each source
within --timeout, and prints one screenful. A source that does not answer is shown with its
error; the others are still shown.

With --context given twice (the primary site, then the DR site), it shows both sites and
compares them: which one serves, the newest restorable backup of each and its age, the
gateway images and the Cassandra tables that differ, and the DR readiness findings.

Exit codes: 0 healthy, 3 degraded (a source fails or an error-level finding exists, on any
site), 1 could not run (the Kubernetes API could not be read).`,
		Example: `  apimctl status
  apimctl status --watch
  apimctl status -o json | jq '.findings[] | select(.severity=="error")'
  apimctl --context prod --context dr status`,
		Args: cmdutil.NoArgs,
		RunE: cmdutil.Run(o, func(*cobra.Command, []string) error {
			o.Contexts = f.Contexts
			switch {
			case o.Timeout <= 0:
				return cmdutil.Usagef("--timeout %s: must be positive", o.Timeout)
			case o.Watch && o.Interval <= 0:
				return cmdutil.Usagef("--interval %s: must be positive", o.Interval)
			case o.Watch && len(o.Contexts) > 1:
				return cmdutil.Usagef("--watch shows one site: give one --context")
			}
			return cmdutil.ValidateOutput(o.Output)
		}, runF, func(ctx context.Context, o *StatusOptions) error {
			if len(o.Contexts) > 1 {
				return sitesRun(ctx, o)
			}
			return statusRun(ctx, o)
		}),
	}
	cmdutil.AddOutputFlag(cmd, &o.Output)
	cmd.Flags().DurationVar(&o.Timeout, "timeout", DefaultTimeout, "how long to wait for every source to answer")
	cmd.Flags().BoolVarP(&o.Watch, "watch", "w", false, "keep watching: redraw (table) or print one JSON document per line")
	cmd.Flags().DurationVar(&o.Interval, "interval", 2*time.Second, "with --watch, how often to print")
	return cmd
}

// NotReadable is the error of a read command when the Kubernetes API could not be read.
func NotReadable(s model.Snapshot) error {
	return cmdutil.Failed(fmt.Errorf("could not read the deployment from Kubernetes: %s", s.Source(model.SourceKube).Error),
		"check --kubeconfig/--context (for the lab: eval \"$(apimctl lab env)\")")
}

func statusRun(ctx context.Context, o *StatusOptions) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	obs, err := o.Observe(ctx, o.Timeout)
	if err != nil {
		return err
	}
	ios := o.IO
	print := func(s model.Snapshot) error {
		doc := model.StatusDocument{Health: model.Verdict(s), Snapshot: &s}
		switch {
		case o.Output == "json" && o.Watch:
			return json.NewEncoder(ios.Out).Encode(doc) // one document per line
		case o.Output != "table":
			return cmdutil.WriteData(ios.Out, o.Output, doc)
		}
		if o.Watch && ios.OutTTY {
			fmt.Fprint(ios.Out, "\x1b[H\x1b[2J")
		}
		Render(ios.Out, cmdutil.NewStyles(ios.ColorEnabled()), s, doc.Health)
		return nil
	}
	s := obs.Snapshot()
	if err := print(s); err != nil {
		return err
	}
	if o.Watch {
		t := time.NewTicker(o.Interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
				if o.Output == "table" && !ios.OutTTY {
					fmt.Fprintln(ios.Out)
				}
				s = obs.Snapshot()
				if err := print(s); err != nil {
					return err
				}
			}
		}
	}
	switch model.Verdict(s) {
	case model.Unknown:
		return NotReadable(s)
	case model.Degraded:
		return cmdutil.Silent(cmdutil.ExitDegraded)
	}
	return nil
}

func sourceLine(st cmdutil.Styles, now time.Time, s model.SourceState) string {
	switch {
	case s.Error != "" && !s.Synced:
		return st.Bad("✗ "+s.Name) + " " + s.Error
	case s.Error != "":
		return st.Bad("✗ "+s.Name) + " " + s.Error + " (data from " + format.Ago(s.LastSuccess, now) + ")"
	case s.Stale:
		return st.Warn("! "+s.Name) + " stale, " + format.Ago(s.LastSuccess, now)
	case !s.Synced:
		return st.Warn("… "+s.Name) + " no answer yet"
	}
	return st.OK("✓ "+s.Name) + " " + format.Ago(s.LastSuccess, now)
}

// Render prints the snapshot as status's table output.
func Render(w io.Writer, st cmdutil.Styles, s model.Snapshot, h model.Health) {
	verdict := map[model.Health]string{model.Healthy: st.OK("✓ HEALTHY"), model.Degraded: st.Bad("✗ DEGRADED"), model.Unknown: st.Bad("? UNKNOWN")}[h]
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
	row := func(wl model.Workload) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s\t%s\n", wl.Role, format.OrDash(wl.Group), wl.Name, wl.Ready, wl.Desired, wl.Tag, WorkloadState(st, wl))
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
				line += " " + st.Warn("! "+c.Reason)
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
		mark := st.OK("✓")
		if !n.Up {
			mark = st.Bad("✗ down")
		}
		nodes = append(nodes, fmt.Sprintf("%s %s/%s %s", n.Address, n.DC, n.Rack, mark))
	}
	schema := "schema agreed"
	if s.Cassandra.SchemaVersions > 1 {
		schema = st.Warn(fmt.Sprintf("! %d schema versions", s.Cassandra.SchemaVersions))
	}
	fmt.Fprintf(w, "cassandra %d/%d nodes up · %s\n", up, len(s.Cassandra.Nodes), schema)
	if len(nodes) > 0 {
		fmt.Fprintf(w, "          %s\n", strings.Join(nodes, " · "))
	}
	for _, k := range s.Cassandra.Keyspaces {
		q := st.OK("QUORUM ✓ reachable")
		if !k.QuorumReachable {
			q = st.Bad(fmt.Sprintf("QUORUM ✗ lost (%d of %d replicas up)", k.ReplicasUp, k.Quorum))
		}
		fmt.Fprintf(w, "          %s %s RF %d · %s\n", k.Name, k.Strategy, k.ReplicationFactor, q)
	}
	// MySQL
	if m := s.MySQL; m.Reachable {
		tls := st.Warn("TLS off")
		if m.TLS {
			tls = "TLS " + m.TLSVersion
		}
		line := fmt.Sprintf("mysql     %s %s · up %s · %d/%d connections · %s · %s", st.OK("✓"), m.Version, m.Uptime.Round(time.Second), m.ThreadsConnected, m.MaxConnections, tls, format.Bytes(m.DatabaseSizeBytes))
		if r := m.Replica; r != nil {
			lag := "?"
			if r.LagSeconds != nil {
				lag = fmt.Sprintf("%ds", *r.LagSeconds)
			}
			line += fmt.Sprintf(" · replica io=%v sql=%v lag %s", r.IORunning, r.SQLRunning, lag)
		}
		fmt.Fprintln(w, line)
	} else {
		fmt.Fprintf(w, "mysql     %s %s\n", st.Bad("✗ unreachable"), s.Source(model.SourceMySQL).Error)
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
	// Alerts: one line, the most urgent first.
	if len(s.Alerts) > 0 {
		firing := 0
		var names []string
		for _, a := range s.Alerts {
			if a.State == model.AlertFiring {
				firing++
			}
			if len(names) < 3 {
				names = append(names, strings.TrimSpace(a.Name+" "+a.Subject))
			}
		}
		word := fmt.Sprintf("%d firing, %d pending", firing, len(s.Alerts)-firing)
		if firing > 0 {
			word = st.Bad("✗ " + word)
		}
		more := ""
		if len(s.Alerts) > len(names) {
			more = fmt.Sprintf(", … %d more", len(s.Alerts)-len(names))
		}
		fmt.Fprintf(w, "alerts    %s: %s%s\n", word, strings.Join(names, ", "), more)
	}
	// Backups (observed when the live model reads them)
	if !s.Backups.Checked.IsZero() {
		line := s.Backups.Summary(s.Taken)
		if late, _ := s.Backups.Late(s.Taken); late || s.Backups.Error != "" {
			line = st.Warn("! " + line)
		} else if s.Backups.Last != nil {
			line = st.OK("✓") + " " + line
		}
		fmt.Fprintf(w, "backups   %s · %s\n", line, s.Backups.Location)
	}
	// Findings
	count := map[model.Severity]int{}
	for _, f := range s.Findings {
		count[f.Severity]++
	}
	fmt.Fprintf(w, "\nfindings  %s, %s, %s\n", format.Counted(count[model.SeverityError], "error"),
		format.Counted(count[model.SeverityWarning], "warning"), format.Counted(count[model.SeverityInfo], "note"))
	shown := 0
	for _, f := range s.Findings {
		if f.Severity == model.SeverityInfo || shown == 6 {
			continue
		}
		mark := st.Warn("! warning")
		if f.Severity == model.SeverityError {
			mark = st.Bad("✗ error  ")
		}
		fmt.Fprintf(w, "  %s %-9s %s\n", mark, f.ID, format.OneLine(f.Message, 110))
		shown++
	}
	if n := count[model.SeverityError] + count[model.SeverityWarning] - shown; n > 0 {
		fmt.Fprintf(w, "  … %d more: apimctl check\n", n)
	}
}

// WorkloadState is a workload's state word with its symbol and colour: "✓ ready",
// "… rolling out 1/3 updated", "! not ready 2 of 3".
func WorkloadState(st cmdutil.Styles, wl model.Workload) string {
	word, detail, level := wl.State()
	text := strings.TrimSpace(word + " " + detail)
	switch level {
	case model.LevelBusy:
		return st.Warn("… " + text)
	case model.LevelWarn:
		return st.Warn("! " + text)
	case model.LevelBad:
		return st.Bad("✗ " + text)
	}
	return st.OK("✓ " + text)
}
