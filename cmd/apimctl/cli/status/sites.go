package status

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	"github.com/apimctl/apimctl/internal/format"
	"github.com/apimctl/apimctl/ops/model"
)

// SitesDocument is the JSON of status with several sites.
type SitesDocument struct {
	Sites      []SiteDocument       `json:"sites"`
	Comparison model.SiteComparison `json:"comparison"`
}

// SiteDocument is one site's status.
type SiteDocument struct {
	Context string `json:"context"`
	model.StatusDocument
}

func sitesRun(ctx context.Context, o *StatusOptions) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	observed, err := o.Sites(ctx, o.Timeout)
	if err != nil {
		return err
	}
	backups, err := o.Backups()
	if err != nil {
		fmt.Fprintf(o.IO.ErrOut, "warning: the backups could not be listed: %v\n", err)
	}
	sites := make([]model.Site, len(observed))
	doc := SitesDocument{Sites: make([]SiteDocument, len(observed))}
	for i, s := range observed {
		sites[i] = model.Site{Context: s.Context, Snapshot: s.Obs.Snapshot()}
		if s.Conn != nil {
			sites[i].Keyspace, sites[i].ThrottleKeyspace = s.Conn.Targets.Keyspace, s.Conn.Targets.ThrottleKeyspace
		}
		doc.Sites[i] = SiteDocument{Context: s.Context,
			StatusDocument: model.StatusDocument{Health: model.Verdict(sites[i].Snapshot), Snapshot: &sites[i].Snapshot}}
	}
	doc.Comparison = model.CompareSites(sites, backups, o.Now())
	if o.Output != "table" {
		if err := cmdutil.WriteData(o.IO.Out, o.Output, doc); err != nil {
			return err
		}
	} else {
		st := cmdutil.NewStyles(o.IO.ColorEnabled())
		for i, s := range sites {
			fmt.Fprintf(o.IO.Out, "═══ site %s ═══\n", s.Context)
			Render(o.IO.Out, st, s.Snapshot, doc.Sites[i].Health)
			fmt.Fprintln(o.IO.Out)
		}
		RenderComparison(o.IO.Out, st, doc.Comparison, o.Now())
	}
	for _, s := range doc.Sites {
		if s.Health != model.Healthy {
			return cmdutil.Silent(cmdutil.ExitDegraded)
		}
	}
	for _, f := range doc.Comparison.Findings {
		if f.Severity == model.SeverityError {
			return cmdutil.Silent(cmdutil.ExitDegraded)
		}
	}
	return nil
}

// RenderComparison prints the sites side by side.
func RenderComparison(w io.Writer, st cmdutil.Styles, c model.SiteComparison, now time.Time) {
	fmt.Fprintln(w, "═══ primary and DR ═══")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SITE\tHEALTH\tSERVING\tREQ/S\tNEWEST BACKUP\tAGE")
	for _, s := range c.Sites {
		serving := "standby"
		if s.Serving {
			serving = st.OK("✓ serving")
		}
		b, age := "-", "-"
		if s.NewestBackup != nil {
			b, age = s.NewestBackup.ID, format.Age(now.Sub(s.NewestBackup.Created))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\t%s\t%s\n", s.Context, s.Health, serving, s.RPS, b, age)
	}
	tw.Flush()
	for _, d := range append(append([]model.Drift{}, c.ImageDrift...), c.SchemaDrift...) {
		var vals []string
		for _, s := range c.Sites {
			vals = append(vals, s.Context+" "+format.OrDash(d.Values[s.Context]))
		}
		fmt.Fprintf(w, "%s %s: %s\n", st.Warn("! drift"), d.What, strings.Join(vals, " · "))
	}
	if len(c.Findings) == 0 {
		fmt.Fprintln(w, st.OK("✓ the DR site is ready: no drift, a fresh backup to restore"))
	}
	for _, f := range c.Findings {
		mark := map[model.Severity]string{model.SeverityError: st.Bad("✗ error"), model.SeverityWarning: st.Warn("! warning"), model.SeverityInfo: "· note"}[f.Severity]
		fmt.Fprintf(w, "%s %s  %s: %s\n    fix: %s\n", mark, f.ID, f.Subject, f.Message, f.Fix)
	}
}
