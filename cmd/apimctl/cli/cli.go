package cli

import (
	"context"
	"os/signal"
	"syscall"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	"github.com/apimctl/apimctl/cmd/apimctl/cli/factory"
	"github.com/apimctl/apimctl/cmd/apimctl/cli/iostreams"
)

// Version and Commit are set by the Makefile with -ldflags -X.
var (
	Version = "dev"
	Commit  = "unknown"
)

// IOStreams are a command's terminal (see package iostreams).
type IOStreams = iostreams.IOStreams

// System and Test return the process's streams and buffer-backed ones for tests.
var (
	System = iostreams.System
	Test   = iostreams.Test
)

// Exit codes (see cmdutil).
const (
	ExitOK       = cmdutil.ExitOK
	ExitError    = cmdutil.ExitError
	ExitUsage    = cmdutil.ExitUsage
	ExitDegraded = cmdutil.ExitDegraded
	ExitDenied   = cmdutil.ExitDenied
	ExitAborted  = cmdutil.ExitAborted
)

// Main runs the command line and returns the exit code. Errors are printed once, here.
func Main(ios *IOStreams, args []string) int {
	// client-go logs through klog to stderr; on a terminal UI that would scribble over the
	// screen, and in scripts it is noise. Errors reach the user through return values.
	klog.SetLogger(logr.Discard())
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return Run(ctx, factory.New(ios, Version, Commit), args)
}

// Run runs args with f (tests give a Factory of fakes).
func Run(ctx context.Context, f *cmdutil.Factory, args []string) int {
	root := NewCmdRoot(f)
	root.SetArgs(args)
	return cmdutil.Report(f.IOStreams, root.ExecuteContext(ctx))
}
