package config

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Lookup returns the value of an environment variable; os.LookupEnv in production.
type Lookup func(name string) (string, bool)

// envRef matches ${environment.NAME} and ${environment.NAME:-default}, the reference
// architecture's notation for values taken from the container's environment.
var envRef = regexp.MustCompile(`\$\{environment\.([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// decoder walks the YAML node tree against the Go type before decoding, so that every problem
// (unknown field, missing field, wrong type, unset variable) is reported with its file, field
// path and line. yaml.v3's own KnownFields works only on a Decoder, not on a Node, and its
// messages name Go types rather than the operator's field paths.
type decoder struct {
	file   string
	lookup Lookup
	errs   Errors
	lines  map[string]int
}

var (
	durationType    = reflect.TypeOf(time.Duration(0))
	unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
	yamlLineRe      = regexp.MustCompile(`line (\d+)`)
)

func decodeFile(file string, data []byte, lookup Lookup, out any) (map[string]int, error) {
	d := &decoder{file: file, lookup: lookup, lines: map[string]int{}}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		line := 0
		if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		msg = strings.TrimSpace(yamlLineRe.ReplaceAllString(msg, ""))
		msg = strings.TrimPrefix(msg, ": ")
		return nil, Errors{{File: file, Line: line, Msg: "malformed YAML: " + msg}}
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return nil, Errors{{File: file, Msg: "file is empty"}}
	}
	doc := root.Content[0]
	d.walk(doc, reflect.TypeOf(out).Elem(), "", nil)
	if len(d.errs) > 0 {
		return nil, d.errs
	}
	if err := doc.Decode(out); err != nil {
		// The walk checks types first, so this is a safety net; still name the file.
		return nil, Errors{{File: file, Msg: err.Error()}}
	}
	return d.lines, nil
}

func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.errs = append(d.errs, &FieldError{File: d.file, Field: path, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

type fieldInfo struct {
	name     string
	typ      reflect.Type
	required bool
	secret   bool
}

func structFields(t reflect.Type) []fieldInfo {
	var out []fieldInfo
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		cfg := f.Tag.Get("cfg")
		out = append(out, fieldInfo{
			name:     name,
			typ:      f.Type,
			required: strings.Contains(cfg, "required"),
			secret:   strings.Contains(cfg, "secret"),
		})
	}
	return out
}

// walk validates node n against type t at path. fi is the struct field being filled, if any.
func (d *decoder) walk(n *yaml.Node, t reflect.Type, path string, fi *fieldInfo) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if _, seen := d.lines[path]; !seen || path == "" {
		d.lines[path] = n.Line
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		if fi != nil && fi.required {
			d.fail(n, path, "is required and empty")
		}
		return
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		if n.Kind != yaml.ScalarNode {
			d.fail(n, path, "must be a single value")
			return
		}
		if !d.substitute(n, path, true) {
			return
		}
		v := reflect.New(t)
		if err := v.Interface().(yaml.Unmarshaler).UnmarshalYAML(n); err != nil {
			d.fail(n, path, "%v", err)
		}
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		d.walk(n, t.Elem(), path, fi)
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.fail(n, path, "must be a mapping of fields, got %s", kindName(n))
			return
		}
		fields := structFields(t)
		byName := make(map[string]*fieldInfo, len(fields))
		names := make([]string, 0, len(fields))
		for i := range fields {
			byName[fields[i].name] = &fields[i]
			names = append(names, fields[i].name)
		}
		sort.Strings(names)
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			f, ok := byName[k.Value]
			p := join(path, k.Value)
			if !ok {
				d.fail(k, p, "unknown field %q (known fields: %s)", k.Value, strings.Join(names, ", "))
				continue
			}
			if seen[k.Value] {
				d.fail(k, p, "appears twice")
				continue
			}
			seen[k.Value] = true
			d.walk(v, f.typ, p, f)
		}
		for _, f := range fields {
			if f.required && !seen[f.name] {
				d.fail(n, join(path, f.name), "is required")
			}
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(n, path, "must be a list, got %s", kindName(n))
			return
		}
		for i, item := range n.Content {
			d.walk(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), nil)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.fail(n, path, "must be a mapping, got %s", kindName(n))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			d.walk(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value), nil)
		}
	default:
		if n.Kind != yaml.ScalarNode {
			d.fail(n, path, "must be a single value, got %s", kindName(n))
			return
		}
		secret := fi != nil && fi.secret
		if !d.substitute(n, path, t.Kind() == reflect.String) {
			return
		}
		d.checkScalar(n, t, path, secret)
	}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("the value %q", n.Value)
	}
	return "something else"
}

// substitute replaces ${environment.NAME} references in a scalar. It reports unset variables
// by name (never their values) and returns false when the value could not be completed.
func (d *decoder) substitute(n *yaml.Node, path string, keepString bool) bool {
	if !strings.Contains(n.Value, "${") {
		return true
	}
	ok := true
	out := envRef.ReplaceAllStringFunc(n.Value, func(ref string) string {
		m := envRef.FindStringSubmatch(ref)
		name, hasDefault, def := m[1], m[2] != "", m[3]
		if v, set := d.lookup(name); set && v != "" {
			return v
		}
		if hasDefault {
			return def
		}
		d.fail(n, path, "environment variable %s is not set (referenced as ${environment.%s}); set it or give a default with ${environment.%s:-value}", name, name, name)
		ok = false
		return ""
	})
	if !ok {
		return false
	}
	if strings.Contains(out, "${") && envRef.FindString(n.Value) == "" {
		d.fail(n, path, "malformed reference %q: write ${environment.NAME}", n.Value)
		return false
	}
	n.Value = out
	if keepString {
		n.Tag = "!!str"
	} else if n.Style == 0 || n.Style == yaml.DoubleQuotedStyle || n.Style == yaml.SingleQuotedStyle {
		// Re-resolve the type of the substituted text (e.g. "9042" becomes an int).
		n.Tag = ""
		n.Style = 0
	}
	return true
}

func (d *decoder) checkScalar(n *yaml.Node, t reflect.Type, path string, secret bool) {
	show := fmt.Sprintf("%q", n.Value)
	if secret {
		show = "(value hidden)"
	}
	v := strings.TrimSpace(n.Value)
	switch {
	case t == durationType:
		if _, err := time.ParseDuration(v); err != nil {
			d.fail(n, path, "%s is not a duration (write e.g. 1s, 500ms, 5m)", show)
		}
	case t.Kind() == reflect.Bool:
		if _, err := strconv.ParseBool(v); err != nil {
			d.fail(n, path, "%s is not true or false", show)
		}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		if _, err := strconv.ParseInt(v, 0, t.Bits()); err != nil {
			d.fail(n, path, "%s is not an integer", show)
		}
	case t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64:
		if _, err := strconv.ParseUint(v, 0, t.Bits()); err != nil {
			d.fail(n, path, "%s is not a non-negative integer", show)
		}
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		if _, err := strconv.ParseFloat(v, t.Bits()); err != nil {
			d.fail(n, path, "%s is not a number", show)
		}
	case t.Kind() == reflect.String:
	default:
		d.fail(n, path, "unsupported type %s", t)
	}
}

// ByteSize is a size on disk written as 1GB, 512MB, 64KiB or a plain number of bytes.
// KB/MB/GB are binary multiples (1024), as operators mean them for disk caps.
type ByteSize int64

// UnmarshalYAML parses a ByteSize.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// ParseByteSize parses 1GB, 512MiB, 10k, 4096.
func ParseByteSize(s string) (ByteSize, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToUpper(strings.TrimSpace(t[i:]))
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("%q is not a size (write e.g. 1GB, 512MB, 64KB)", s)
	}
	mult := map[string]float64{"": 1, "B": 1, "K": 1 << 10, "KB": 1 << 10, "KIB": 1 << 10,
		"M": 1 << 20, "MB": 1 << 20, "MIB": 1 << 20, "G": 1 << 30, "GB": 1 << 30, "GIB": 1 << 30,
		"T": 1 << 40, "TB": 1 << 40, "TIB": 1 << 40}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("%q has an unknown unit %q (use B, KB, MB, GB, TB)", s, unit)
	}
	return ByteSize(f * mult), nil
}
