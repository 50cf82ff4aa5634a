// Package backup writes, checks and restores backups of an API-management deployment:
// Cassandra keyspaces (schema and rows, exact to the byte), the MySQL metrics database, the
// namespace's Kubernetes resources (Secrets encrypted with age), the gateways' event files
// and policy/environment packages, and the images the workloads run.
//
// A backup is a set of objects under one ID in a Location (a local directory or an Azure
// Blob container): one object per part — a token range of a Cassandra table, a primary-key
// chunk of a MySQL table, a file — compressed with zstd, and a manifest listing every part
// with its size and SHA-256 over the stored bytes. The manifest is written last, so an ID
// without one is an unfinished backup.
package backup

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// FormatVersion is the manifest format this package writes. Format 2 (zstd parts, Cassandra
// rows as raw CQL values, MySQL per table chunk) is the first this package restores; format 1
// backups can still be listed, verified and pruned.
const FormatVersion = 2

// ManifestFile is the manifest's name inside a backup.
const ManifestFile = "manifest.json"

// Zstd is Part.Compression for parts stored compressed with zstd.
const Zstd = "zstd"

// Part kinds.
const (
	KindCassandraSchema = "cassandra-schema"
	KindCassandraRows   = "cassandra-rows"
	KindMySQLSchema     = "mysql-schema"
	KindMySQLRows       = "mysql-rows"
	KindKube            = "kube"
	KindKubeSecrets     = "kube-secrets"
	KindFiles           = "files"
)

// ErrNewerFormat is returned for a backup written by a newer apimctl.
var ErrNewerFormat = errors.New("backup written by a newer apimctl")

// ErrNotBackup is returned for an ID without a manifest (nothing there, or an unfinished
// backup); ErrBadManifest for a manifest that cannot be read as one.
var (
	ErrNotBackup   = errors.New("not a backup, or an unfinished one")
	ErrBadManifest = errors.New("the manifest is damaged")
)

// Manifest describes one backup.
type Manifest struct {
	Format   int       `json:"format"`
	ID       string    `json:"id"`
	Created  time.Time `json:"created"`
	Finished time.Time `json:"finished"`
	Source   Source    `json:"source"`
	Parts    []Part    `json:"parts"`
	Images   []Image   `json:"images,omitempty"`
	// Notes are what the backup does not hold and why (e.g. Secrets without a recipient).
	Notes []string `json:"notes,omitempty"`
}

// Source is what was backed up.
type Source struct {
	Context   string `json:"context"`
	Namespace string `json:"namespace"`
	Tool      string `json:"tool"`
	// Cassandra and MySQL identify the data stores read — the Cassandra cluster (see
	// cassandra.Client.ClusterID) and MySQL's host:port/database — so a DR drill can refuse
	// a target that is the source itself.
	Cassandra string `json:"cassandra,omitempty"`
	MySQL     string `json:"mysql,omitempty"`
}

// Part is one stored object of a backup.
type Part struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"` // for people: keyspace.table, database.table, events/FILE…
	Path   string `json:"path"` // relative to the backup (to backup Ref when Ref is set)
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"` // of the stored bytes
	Items  int64  `json:"items"`  // rows, objects or statements
	// Raw is the size before compression; Compression is "" or "zstd".
	Raw         int64  `json:"raw,omitempty"`
	Compression string `json:"compression,omitempty"`
	// Ref is the backup that stores this part's object when an incremental backup found it
	// unchanged there (never another reference: always the backup holding the bytes).
	Ref string `json:"ref,omitempty"`

	Keyspace string `json:"keyspace,omitempty"`
	Database string `json:"database,omitempty"`
	Table    string `json:"table,omitempty"`
	// Unit numbers a table's parts (token ranges, primary-key chunks) from 0; Units is how
	// many the table has, so a missing one is noticed.
	Unit  int `json:"unit,omitempty"`
	Units int `json:"units,omitempty"`
	// Range is what a unit holds: a token range "(a,b]" or a MySQL chunk's WHERE condition.
	Range string `json:"range,omitempty"`

	// File is a file's path relative to its backed-up directory, with its time and mode.
	File     string     `json:"file,omitempty"`
	Modified *time.Time `json:"modified,omitempty"`
	Mode     uint32     `json:"mode,omitempty"`
}

// Image is an image a workload runs, with its digest when the registry could tell.
type Image struct {
	Workload string `json:"workload"`
	Image    string `json:"image"`
	Digest   string `json:"digest,omitempty"`
}

// NewID names a backup by its UTC start time and namespace: 20261128T185400Z-apim.
func NewID(now time.Time, namespace string) string {
	return now.UTC().Format("20060102T150405Z") + "-" + namespace
}

// checkID refuses an ID that is not one name: it becomes a directory or a blob prefix.
func checkID(id string) error {
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, "/\\\x00") || len(id) > 200 {
		return fmt.Errorf("backup ID %q is not a plain name", id)
	}
	return nil
}

// parseManifest reads and checks a manifest: its format, and that every part path and
// reference stays inside the location.
func parseManifest(where string, b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %v: %w", where, err, ErrBadManifest)
	}
	if m.Format > FormatVersion {
		return nil, fmt.Errorf("%s: format %d, this apimctl reads formats up to %d: %w (use a newer apimctl)", where, m.Format, FormatVersion, ErrNewerFormat)
	}
	if m.Format < 1 {
		return nil, fmt.Errorf("%s: no format version, not an apimctl manifest: %w", where, ErrBadManifest)
	}
	for _, p := range m.Parts {
		if err := checkName(p.Path); err != nil {
			return nil, fmt.Errorf("%s: part %q: %w", where, p.Path, err)
		}
		if p.Ref != "" {
			if err := checkID(p.Ref); err != nil {
				return nil, fmt.Errorf("%s: part %q: %w", where, p.Path, err)
			}
		}
		if p.Compression != "" && p.Compression != Zstd {
			return nil, fmt.Errorf("%s: part %q: unknown compression %q", where, p.Path, p.Compression)
		}
	}
	return &m, nil
}

// PartsOf returns the manifest's parts of a kind.
func (m *Manifest) PartsOf(kind string) []Part {
	var out []Part
	for _, p := range m.Parts {
		if p.Kind == kind {
			out = append(out, p)
		}
	}
	return out
}

// Keyspaces are the keyspaces the backup holds.
func (m *Manifest) Keyspaces() []string {
	var out []string
	for _, p := range m.PartsOf(KindCassandraSchema) {
		out = append(out, p.Name)
	}
	return out
}

// Databases are the MySQL databases the backup holds.
func (m *Manifest) Databases() []string {
	var out []string
	for _, p := range m.PartsOf(KindMySQLSchema) {
		out = append(out, p.Database)
	}
	return out
}

// FileSets are the file sets (events, packages, …) the backup holds.
func (m *Manifest) FileSets() []string {
	var out []string
	for _, p := range m.PartsOf(KindFiles) {
		if !slices.Contains(out, p.Name) {
			out = append(out, p.Name)
		}
	}
	return out
}

// tableParts returns a table's units in order, checking that none is missing.
func (m *Manifest) tableParts(kind, scope, table string) ([]Part, error) {
	var out []Part
	for _, p := range m.Parts {
		if p.Kind == kind && p.Table == table && (p.Keyspace == scope || p.Database == scope) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b Part) int { return a.Unit - b.Unit })
	for i, p := range out {
		if p.Unit != i || p.Units != len(out) {
			return nil, fmt.Errorf("table %s.%s: the manifest lists %d of its %d parts (unit %d missing)", scope, table, len(out), p.Units, i)
		}
	}
	return out, nil
}
