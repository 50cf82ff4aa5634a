package cli

import (
	"context"
	"errors"
	"fmt"
	"os/signal"
	"syscall"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
)

// Exit codes, documented in `apimctl --help` and the README.
const (
	ExitOK       = 0
	ExitError    = 1
	ExitUsage    = 2
	ExitDegraded = 3 // degraded, or a check failed
	ExitDenied   = 4 // not permitted (RBAC, read-only)
	ExitAborted  = 5 // aborted and rolled back
)

// exitError carries an exit code and an optional hint for the user.
type exitError struct {
	code int
	err  error
	hint string
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, err error) error { return &exitError{code: code, err: err} }

// silentExit ends with code without printing: the command already said why.
func silentExit(code int) error { return &exitError{code: code} }

func usageError(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

// Main runs the command line and returns the exit code. Errors are printed once, here.
func Main(ios *IOStreams, args []string) int {
	// client-go logs through klog to stderr; on a terminal UI that would scribble over the
	// screen, and in scripts it is noise. Errors reach the user through return values.
	klog.SetLogger(logr.Discard())
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	root := NewRootCmd(ios)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(ios.ErrOut, "error: %v\n", ee.err)
		}
		if ee.hint != "" {
			fmt.Fprintf(ios.ErrOut, "hint: %s\n", ee.hint)
		}
		return ee.code
	}
	fmt.Fprintf(ios.ErrOut, "error: %v\n", err)
	if isUsage(err) {
		fmt.Fprintln(ios.ErrOut, "Run 'apimctl --help' for usage.")
		return ExitUsage
	}
	return ExitError
}

// isUsage recognises cobra's own argument and flag errors.
func isUsage(err error) bool {
	s := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "flag needs an argument", "invalid argument", "accepts ", "requires at least", "requires exactly"} {
		if len(s) >= len(p) && contains(s, p) {
			return true
		}
	}
	return false
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
