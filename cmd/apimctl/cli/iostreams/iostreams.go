package iostreams

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// IOStreams are the command's terminal: data to Out, progress and prompts to ErrOut.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	InTTY, OutTTY, ErrTTY bool
	// NoColor is set when $NO_COLOR is (https://no-color.org).
	NoColor bool

	in *bufio.Reader
}

// System returns the process's streams.
func System() *IOStreams {
	isTTY := func(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
	return &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		InTTY: isTTY(os.Stdin), OutTTY: isTTY(os.Stdout), ErrTTY: isTTY(os.Stderr), NoColor: os.Getenv("NO_COLOR") != ""}
}

// Test returns streams backed by buffers; set the TTY flags to test terminal behaviour.
func Test() (ios *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// CanPrompt is true when both ends of the conversation are a terminal.
func (s *IOStreams) CanPrompt() bool { return s.InTTY && s.ErrTTY }

// ColorEnabled is true on a terminal unless NO_COLOR is set.
func (s *IOStreams) ColorEnabled() bool { return s.OutTTY && !s.NoColor }

// ErrNoTerminal is Confirm's refusal without a terminal.
var ErrNoTerminal = errors.New("needs confirmation: not on a terminal, so pass --yes to go ahead (or --dry-run to see the plan)")

// Confirm asks a yes/no question on a terminal. Without one it refuses, so scripts must say
// --yes explicitly.
func (s *IOStreams) Confirm(question string) (bool, error) {
	if !s.CanPrompt() {
		return false, ErrNoTerminal
	}
	fmt.Fprintf(s.ErrOut, "%s [y/N] ", question)
	if s.in == nil {
		s.in = bufio.NewReader(s.In)
	}
	line, err := s.in.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes", nil
}
