package cli

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/ops"
)

const defaultProbeTimeout = 5 * time.Second

type statusOptions struct {
	g       *globalOptions
	ios     *IOStreams
	output  string
	timeout time.Duration
}

// StatusReport is the JSON of `apimctl status` (field names are stable).
type StatusReport struct {
	Healthy bool               `json:"healthy"`
	Sources []ops.Reachability `json:"sources"`
}

func newStatusCmd(g *globalOptions, ios *IOStreams) *cobra.Command {
	o := &statusOptions{g: g, ios: ios}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show whether the cluster, Cassandra, the metrics database and Prometheus are reachable",
		Long: `Status probes every source the console reads — the kube API, Cassandra, the metrics
database (MySQL/MariaDB) and Prometheus — each within --timeout, and prints one line per
source: reachable or not, and why.

Exit codes: 0 every source reachable, 3 some source unreachable, 1 could not run.`,
		Example: `  apimctl status
  apimctl status -o json | jq '.sources[] | select(.reachable | not)'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateOutput(o.output); err != nil {
				return err
			}
			return statusRun(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", "table", "output format: table, json or yaml")
	cmd.Flags().DurationVar(&o.timeout, "timeout", defaultProbeTimeout, "how long each source may take to answer")
	return cmd
}

func statusRun(ctx context.Context, o *statusOptions) error {
	conn := ops.Connect(ctx, o.g.targets, os.Getenv)
	res := conn.ProbeAll(ctx, o.timeout)
	rep := StatusReport{Healthy: true, Sources: res}
	for _, r := range res {
		if !r.Reachable {
			rep.Healthy = false
		}
	}
	if o.output != "table" {
		if err := writeData(o.ios.Out, o.output, rep); err != nil {
			return err
		}
	} else {
		st := newStyles(o.ios.ColorEnabled())
		tw := tabwriter.NewWriter(o.ios.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SOURCE\tSTATE\tENDPOINT\tDETAIL")
		for _, r := range res {
			state, detail := st.ok("✓ reachable"), r.Detail
			if !r.Reachable {
				state, detail = st.bad("✗ unreachable"), r.Error
				if r.Hint != "" {
					detail += " — " + r.Hint
				}
			}
			ep := r.Endpoint
			if ep == "" {
				ep = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Source, state, ep, detail)
		}
		tw.Flush()
	}
	if !rep.Healthy {
		return silentExit(ExitDegraded)
	}
	return nil
}

// styles colour words on a terminal; the words carry the meaning without colour.
type styles struct{ color bool }

func newStyles(color bool) styles { return styles{color} }

func (s styles) wrap(code, t string) string {
	if !s.color {
		return t
	}
	return "\x1b[" + code + "m" + t + "\x1b[0m"
}
func (s styles) ok(t string) string   { return s.wrap("32", t) }
func (s styles) bad(t string) string  { return s.wrap("31", t) }
func (s styles) warn(t string) string { return s.wrap("33", t) }
