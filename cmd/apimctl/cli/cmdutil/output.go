package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"sigs.k8s.io/yaml"
)

var outputFormats = []string{"table", "json", "yaml"}

func validateOutput(o string) error {
	if !slices.Contains(outputFormats, o) {
		return usageError("-o %q: use one of table, json, yaml", o)
	}
	return nil
}

// writeData prints v as JSON or YAML; table output is each command's own.
func writeData(w io.Writer, format string, v any) error {
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

// styles colour words on a terminal; the words and symbols carry the meaning without colour.
type styles struct{ color bool }

func newStyles(color bool) styles { return styles{color} }

func (s styles) wrap(code, t string) string {
	if !s.color {
		return t
	}
	return "\x1b[" + code + "m" + t + "\x1b[0m"
}
func (s styles) ok(t string) string   { return s.wrap("32", t) }
func (s styles) bad(t string) string  { return s.wrap("31", t) }
func (s styles) warn(t string) string { return s.wrap("33", t) }
