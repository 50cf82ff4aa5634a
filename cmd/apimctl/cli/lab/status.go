package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	"github.com/apimctl/apimctl/lab"
)

// StatusOptions are lab status's flags.
type StatusOptions struct {
	StateDir string
	Output   string
}

// NewCmdStatus is `apimctl lab status`.
func NewCmdStatus(f *cmdutil.Factory, stateDir *string, runF func(context.Context, *StatusOptions) error) *cobra.Command {
	o := &StatusOptions{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show every lab component with PID, address, memory and health",
		Long:  "Exit codes: 0 every component healthy, 3 some component stopped or unhealthy, 1 no lab.",
		Args:  cmdutil.NoArgs,
		RunE: cmdutil.Run(o, func(cmd *cobra.Command, args []string) error {
			o.StateDir = *stateDir
			return cmdutil.ValidateOutput(o.Output)
		}, runF, withLab(f, stateDir, statusRun)),
	}
	cmdutil.AddOutputFlag(cmd, &o.Output)
	return cmd
}

func statusRun(ctx context.Context, f *cmdutil.Factory, l *lab.Lab, o *StatusOptions) error {
	ios := f.IOStreams
	st := l.Status(ctx)
	healthy := true
	var rss int64
	for _, s := range st {
		healthy = healthy && s.State == "healthy"
		rss += s.RSSKiB
	}
	if o.Output != "table" {
		if err := cmdutil.WriteData(ios.Out, o.Output, map[string]any{"healthy": healthy, "stateDir": o.StateDir, "components": st, "rssKiB": rss}); err != nil {
			return err
		}
	} else {
		sty := cmdutil.NewStyles(ios.ColorEnabled())
		tw := tabwriter.NewWriter(ios.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "COMPONENT\tSTATE\tPID\tADDRESS\tRSS\tDETAIL")
		for _, s := range st {
			state, pid, mem := sty.Warn("! "+s.State), fmt.Sprint(s.PID), fmt.Sprintf("%d MiB", s.RSSKiB/1024)
			switch s.State {
			case "healthy":
				state = sty.OK("✓ healthy")
			case "stopped":
				state, pid, mem = sty.Bad("✗ stopped"), "-", "-"
			}
			detail := s.Error
			if s.State == "stopped" {
				detail = "start it with: apimctl lab up"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, state, pid, s.Addr, mem, detail)
		}
		tw.Flush()
		fmt.Fprintf(ios.Out, "total resident memory: %d MiB\n", rss/1024)
	}
	if !healthy {
		return cmdutil.Silent(cmdutil.ExitDegraded)
	}
	return nil
}

// EnvOptions are lab env's flags.
type EnvOptions struct{ StateDir string }

// NewCmdEnv is `apimctl lab env`.
func NewCmdEnv(f *cmdutil.Factory, stateDir *string, runF func(context.Context, *EnvOptions) error) *cobra.Command {
	o := &EnvOptions{}
	return &cobra.Command{
		Use:   "env",
		Short: "Print shell exports that point the console (and you) at the lab",
		Long: `Prints export lines for eval: KUBECONFIG, the CASS_* and METRICS_DB_* variables the
gateways read, PROMETHEUS_URL and APIM_REGISTRY. Passwords are not printed: their exports read
them from files (mode 0600) in the lab's state directory.`,
		Example: `  eval "$(apimctl lab env)"`,
		Args:    cmdutil.NoArgs,
		RunE: cmdutil.Run(o, func(cmd *cobra.Command, args []string) error {
			o.StateDir = *stateDir
			return nil
		}, runF, func(ctx context.Context, o *EnvOptions) error {
			return envRun(f, o)
		}),
	}
}

func envRun(f *cmdutil.Factory, o *EnvOptions) error {
	env, err := lab.LoadEnv(o.StateDir)
	if err != nil {
		return err
	}
	vars := env.Vars()
	secretDir := filepath.Join(o.StateDir, "secrets")
	if err := os.MkdirAll(secretDir, 0o700); err != nil {
		return err
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.HasSuffix(k, "_PASS") || strings.HasSuffix(k, "_KEY") || strings.HasSuffix(k, "_TOKEN") {
			p := filepath.Join(secretDir, k)
			if err := os.WriteFile(p, []byte(vars[k]), 0o600); err != nil {
				return err
			}
			if err := os.Chmod(p, 0o600); err != nil { // an older file keeps its mode otherwise
				return err
			}
			fmt.Fprintf(f.IOStreams.Out, "export %s=\"$(cat %s)\"\n", k, shellQuote(p))
			continue
		}
		fmt.Fprintf(f.IOStreams.Out, "export %s=%s\n", k, shellQuote(vars[k]))
	}
	return nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
