package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/iostreams"
	"github.com/apimctl/apimctl/ops/action"
)

// Exit codes, documented in `apimctl --help` and the README.
const (
	ExitOK       = 0
	ExitError    = 1
	ExitUsage    = 2
	ExitDegraded = 3 // degraded, a check failed, or blocked by a preflight finding
	ExitDenied   = 4 // not permitted (RBAC, read-only)
	ExitAborted  = 5 // cancelled, declined, or rolled back
)

// ExitCode is the one mapping from an error to the process's exit code: by the error's kind
// (ops/action.Kind); anything else is 1.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	switch action.KindOf(err) {
	case action.KindUsage:
		return ExitUsage
	case action.KindBlocked:
		return ExitDegraded
	case action.KindDenied:
		return ExitDenied
	case action.KindAborted:
		return ExitAborted
	}
	return ExitError
}

// Report prints err once (and its hint) and returns the exit code.
func Report(ios *iostreams.IOStreams, err error) int {
	if err == nil {
		return ExitOK
	}
	var e *action.Error
	silent := errors.As(err, &e) && e.Err == nil && err == error(e)
	if !silent {
		fmt.Fprintf(ios.ErrOut, "error: %v\n", err)
		if h := action.HintOf(err); h != "" {
			fmt.Fprintf(ios.ErrOut, "hint: %s\n", h)
		} else if action.KindOf(err) == action.KindUsage && isFlagError(err) {
			fmt.Fprintln(ios.ErrOut, "Run 'apimctl --help' for usage.")
		}
	}
	return ExitCode(err)
}

// flagError is cobra's own complaint about flags or arguments.
type flagError struct{ err error }

func (e flagError) Error() string { return e.err.Error() }
func (e flagError) Unwrap() error { return e.err }

func isFlagError(err error) bool {
	var fe flagError
	return errors.As(err, &fe)
}

// FlagError marks a flag or argument problem as a usage error (cobra's SetFlagErrorFunc).
func FlagError(_ *cobra.Command, err error) error {
	return &action.Error{Kind: action.KindUsage, Err: flagError{err}}
}

// Usagef is a usage error (exit 2).
func Usagef(format string, args ...any) error { return action.Usagef(format, args...) }

// wrapArgs turns cobra's argument validation errors into usage errors.
func wrapArgs(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return FlagError(cmd, err)
		}
		return nil
	}
}

// ExactArgs is cobra's, returning a usage error.
func ExactArgs(n int) cobra.PositionalArgs { return wrapArgs(cobra.ExactArgs(n)) }

// NoArgs refuses arguments (usage error).
var NoArgs = wrapArgs(cobra.NoArgs)

// Group makes cmd a group of subcommands: without one it prints its help; with an unknown
// one it is a usage error that names the subcommands (cobra would print help and exit 0).
func Group(cmd *cobra.Command) *cobra.Command {
	cmd.Args = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		var names []string
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				names = append(names, sub.Name())
			}
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
		if c.SuggestionsMinimumDistance <= 0 {
			c.SuggestionsMinimumDistance = 2
		}
		if s := c.SuggestionsFor(args[0]); len(s) > 0 {
			msg += fmt.Sprintf("; did you mean %s?", strings.Join(s, " or "))
		} else if len(names) > 0 {
			msg += "; its commands: " + strings.Join(names, ", ")
		}
		return FlagError(c, errors.New(msg))
	}
	cmd.RunE = func(c *cobra.Command, args []string) error { return c.Help() }
	return cmd
}

// Failed is an error (exit 1) with a hint for the user.
func Failed(err error, hint string) error { return action.Failed(err, hint) }

// Silent ends with code without a message: the command already said why.
func Silent(code int) error {
	switch code {
	case ExitUsage:
		return action.Silent(action.KindUsage)
	case ExitDegraded:
		return action.Silent(action.KindBlocked)
	case ExitDenied:
		return action.Silent(action.KindDenied)
	case ExitAborted:
		return action.Silent(action.KindAborted)
	}
	return action.Silent(action.KindFailed)
}

// Blocked is an error of a stalled or blocked state (exit 3).
func Blocked(err error, hint string) error { return action.Blocked(err, hint) }

// Run is the RunE of a command with options O: prepare fills the options from the arguments
// and checks them (a usage error, nothing done), then runF (a test's) or run does the work.
func Run[O any](o *O, prepare func(cmd *cobra.Command, args []string) error, runF, run func(context.Context, *O) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if prepare != nil {
			if err := prepare(cmd, args); err != nil {
				return err
			}
		}
		if runF != nil {
			return runF(cmd.Context(), o)
		}
		return run(cmd.Context(), o)
	}
}
