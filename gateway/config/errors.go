// Package config loads and validates the two configuration files of a gateway, as in the
// reference architecture: the policy package (what the APIs are and which policies guard them)
// and the environment package (where the dependencies are, filled from environment variables).
package config

import (
	"errors"
	"fmt"
	"strings"
)

// FieldError is one problem in a configuration file, located by file, field path and line so
// the operator can go straight to it.
type FieldError struct {
	File  string // path of the file as given
	Field string // dotted path, e.g. apis[2].policy
	Line  int    // 1-based; 0 when unknown
	Msg   string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": field %s", e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one file. Reporting them all at once saves the operator a
// rebuild of the image per mistake.
type Errors []*FieldError

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap lets errors.As find the individual FieldErrors.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

func (es Errors) err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// AsFieldErrors returns the FieldErrors inside err, if any.
func AsFieldErrors(err error) []*FieldError {
	var es Errors
	if errors.As(err, &es) {
		return es
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		return []*FieldError{fe}
	}
	return nil
}
