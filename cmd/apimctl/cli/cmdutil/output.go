package cmdutil

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/apimctl/apimctl/ops/action"
)

var outputFormats = []string{"table", "json", "yaml"}

// AddOutputFlag adds -o table|json|yaml to cmd, into *o.
func AddOutputFlag(cmd *cobra.Command, o *string) {
	cmd.Flags().StringVarP(o, "output", "o", "table", "output format: table, json or yaml")
}

// ValidateOutput refuses an unknown -o value (usage error).
func ValidateOutput(o string) error {
	if !slices.Contains(outputFormats, o) {
		return Usagef("-o %q: use one of table, json, yaml", o)
	}
	return nil
}

// WriteData prints v as JSON or YAML; table output is each command's own.
func WriteData(w io.Writer, format string, v any) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "yaml":
		b, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	return fmt.Errorf("unsupported output %q", format)
}

// WriteDocument prints v as WriteData does when -o asks for JSON or YAML, and nothing with
// table output (a dry run's table is its plan, already printed).
func WriteDocument(w io.Writer, format string, v any) error {
	if format == "table" {
		return nil
	}
	return WriteData(w, format, v)
}

// PrintPlan prints an action's plan as aligned "key  value" lines.
func PrintPlan(w io.Writer, plan []action.Field) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range plan {
		fmt.Fprintf(tw, "%s\t%s%s\n", f.Key, f.Mark.Symbol(), f.Value)
	}
	tw.Flush()
}

// Progress is a progress printer for long actions: "15:04:05  line" on w.
func Progress(w io.Writer, now func() time.Time) func(string) {
	if now == nil {
		now = time.Now
	}
	return func(s string) { fmt.Fprintf(w, "%s  %s\n", now().Format("15:04:05"), s) }
}

// Styles colour words on a terminal; the words and symbols carry the meaning without colour.
type Styles struct{ color bool }

// NewStyles colours only when color is true (a terminal without NO_COLOR).
func NewStyles(color bool) Styles { return Styles{color} }

func (s Styles) wrap(code, t string) string {
	if !s.color {
		return t
	}
	return "\x1b[" + code + "m" + t + "\x1b[0m"
}

// OK, Bad and Warn colour t green, red and yellow.
func (s Styles) OK(t string) string   { return s.wrap("32", t) }
func (s Styles) Bad(t string) string  { return s.wrap("31", t) }
func (s Styles) Warn(t string) string { return s.wrap("33", t) }
