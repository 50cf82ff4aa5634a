// Package cli is apimctl's command line: Main runs the command tree of NewCmdRoot with the
// real Factory and turns the outcome into the exit code. Each group of commands lives in a
// package of its own (status, check, rollout, backup, patch, lab, console, debug, version);
// cmdutil holds what they share.
package cli
