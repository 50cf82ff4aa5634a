// Package cmdutil is what every command of apimctl is built from: the Factory that hands a
// command its terminal, clock, environment, connections and action runner; the exit codes and
// the one mapping from typed errors to them; the output flag; and how a plan is printed.
// Commands get everything through the Factory, so their flags, output and exit codes are
// tested without a lab (cmd/apimctl/cli/cmdtest builds one with fakes).
package cmdutil
