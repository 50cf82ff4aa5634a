package action

import (
	"errors"
	"fmt"
)

// Kind says how an action (or a command) ended when it did not simply succeed. The command
// line maps each kind to its exit code in one place (cli/cmdutil.ExitCode); the console shows
// the same words.
type Kind int

const (
	// KindFailed: it went wrong (exit 1).
	KindFailed Kind = iota
	// KindUsage: bad input, a confirmation that cannot be asked, or a change the API server
	// refuses in its dry run — nothing changed (exit 2).
	KindUsage
	// KindBlocked: a preflight finding blocks it, or a check found the deployment degraded
	// (exit 3).
	KindBlocked
	// KindDenied: not permitted — read-only mode or RBAC (exit 4).
	KindDenied
	// KindAborted: cancelled or declined before anything changed, or rolled back (exit 5).
	KindAborted
)

func (k Kind) String() string {
	switch k {
	case KindUsage:
		return "usage"
	case KindBlocked:
		return "blocked"
	case KindDenied:
		return "not permitted"
	case KindAborted:
		return "aborted"
	}
	return "failed"
}

// Error is an error of a known kind, with an optional hint for the user (what to do next).
// An Error without Err is silent: the command already said why it ends this way.
type Error struct {
	Kind Kind
	Err  error
	Hint string
}

func (e *Error) Error() string {
	if e.Err == nil {
		return e.Kind.String()
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf is the kind of err: the outermost *Error in its chain, else KindFailed.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindFailed
}

// HintOf is the hint of the outermost *Error in err's chain that has one.
func HintOf(err error) string {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return ""
		}
		if e.Hint != "" {
			return e.Hint
		}
		err = e.Err
	}
	return ""
}

// Usagef is a KindUsage error.
func Usagef(format string, args ...any) error {
	return &Error{Kind: KindUsage, Err: fmt.Errorf(format, args...)}
}

// Usage marks err as bad input (nil stays nil).
func Usage(err error) error { return wrap(KindUsage, err, "") }

// Denied marks err as not permitted, with a hint.
func Denied(err error, hint string) error { return wrap(KindDenied, err, hint) }

// Blocked marks err as blocked by a finding, with a hint.
func Blocked(err error, hint string) error { return wrap(KindBlocked, err, hint) }

// Aborted marks err as cancelled or rolled back.
func Aborted(err error) error { return wrap(KindAborted, err, "") }

// Failed is err with a hint (kind KindFailed).
func Failed(err error, hint string) error { return wrap(KindFailed, err, hint) }

// Silent ends with kind without a message: the caller already said why.
func Silent(k Kind) error { return &Error{Kind: k} }

func wrap(k Kind, err error, hint string) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: k, Err: err, Hint: hint}
}
