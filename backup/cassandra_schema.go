package backup

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/gocql/gocql"

	"github.com/apimctl/apimctl/internal/cql"
)

// cassandraSchema is a keyspace's schema part: the server's own DESCRIBE statements, and the
// tables with their columns and how many row units each has.
type cassandraSchema struct {
	Keyspace   string            `json:"keyspace"`
	Statements []schemaStatement `json:"statements"`
	Tables     []tableSchema     `json:"tables"`
}

type schemaStatement struct {
	Type      string `json:"type"` // keyspace, type, function, aggregate, table, index, view…
	Name      string `json:"name"`
	Statement string `json:"statement"`
}

type tableSchema struct {
	Name    string         `json:"name"`
	Columns []columnSchema `json:"columns"`
	Counter bool           `json:"counter,omitempty"`
	Units   int            `json:"units"`
}

// describeKeyspace reads a keyspace's statements with server-side DESCRIBE (Cassandra 4.0+),
// the keyspace's name quoted whatever it is.
func describeKeyspace(ctx context.Context, s *gocql.Session, keyspace string) ([]schemaStatement, error) {
	it := s.Query("DESCRIBE KEYSPACE " + cql.Quote(keyspace)).WithContext(ctx).Iter()
	var out []schemaStatement
	row := map[string]any{}
	for it.MapScan(row) {
		st := schemaStatement{}
		st.Type, _ = row["type"].(string)
		st.Name, _ = row["name"].(string)
		st.Statement, _ = row["create_statement"].(string)
		if strings.TrimSpace(st.Statement) != "" {
			out = append(out, st)
		}
		row = map[string]any{}
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("cassandra: describe keyspace %s: %w", keyspace, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("cassandra: keyspace %s does not exist", keyspace)
	}
	return out, nil
}

// tableColumns reads a table's columns from system_schema: partition key and clustering
// columns in their order, then the others by name.
func tableColumns(ctx context.Context, s *gocql.Session, keyspace, table string) ([]columnSchema, error) {
	it := s.Query("SELECT column_name, type, kind, position FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?",
		keyspace, table).WithContext(ctx).Iter()
	var out []columnSchema
	var c columnSchema
	for it.Scan(&c.Name, &c.Type, &c.Kind, &c.Position) {
		out = append(out, c)
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("cassandra: columns of %s.%s: %w", keyspace, table, err)
	}
	rank := map[string]int{"partition_key": 0, "clustering": 1, "static": 2, "regular": 2}
	slices.SortFunc(out, func(a, b columnSchema) int {
		if ra, rb := rank[a.Kind], rank[b.Kind]; ra != rb {
			return ra - rb
		}
		if a.key() {
			return a.Position - b.Position
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

// tableNames lists a keyspace's tables (not its views, which Cassandra fills itself).
func tableNames(ctx context.Context, s *gocql.Session, keyspace string) ([]string, error) {
	it := s.Query("SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?", keyspace).WithContext(ctx).Iter()
	var out []string
	var t string
	for it.Scan(&t) {
		out = append(out, t)
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("cassandra: tables of %s: %w", keyspace, err)
	}
	slices.Sort(out)
	return out, nil
}

// readSchemaPart reads a keyspace's schema part from a backup.
func readSchemaPart(ctx context.Context, b *Backup, keyspace string) (*cassandraSchema, error) {
	for _, p := range b.Manifest.PartsOf(KindCassandraSchema) {
		if p.Name != keyspace {
			continue
		}
		if b.Manifest.Format < 2 {
			return nil, fmt.Errorf("backup %s has format %d (rows as JSON, decimals not exact): restore it with the apimctl that wrote it", b.ID, b.Manifest.Format)
		}
		var sch cassandraSchema
		if err := b.readJSONPart(ctx, p, &sch); err != nil {
			return nil, err
		}
		return &sch, nil
	}
	return nil, fmt.Errorf("the backup has no keyspace %s (it has %s)", keyspace, strings.Join(b.Manifest.Keyspaces(), ", "))
}

// CassandraSchema returns a keyspace's statements from the backup rewritten for the target:
// the keyspace renamed (from → to) wherever a name is qualified with it, its replication
// replaced when replication is not empty (e.g. {'class': 'NetworkTopologyStrategy', 'dc2': 3}
// at a DR site), and IF NOT EXISTS everywhere so a restore can run again. Names are rewritten
// on CQL tokens, so quoted names, strings and function bodies are never touched.
func CassandraSchema(ctx context.Context, b *Backup, from, to, replication string) ([]string, error) {
	sch, err := readSchemaPart(ctx, b, from)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, st := range sch.Statements {
		s, err := rewriteStatement(st.Statement, from, to, replication)
		if err != nil {
			return nil, fmt.Errorf("schema of %s, %s %s: %w", from, st.Type, st.Name, err)
		}
		out = append(out, s)
	}
	return out, nil
}

var createKinds = [][]string{{"KEYSPACE"}, {"TABLE"}, {"TYPE"}, {"INDEX"}, {"CUSTOM", "INDEX"}, {"MATERIALIZED", "VIEW"},
	{"FUNCTION"}, {"AGGREGATE"}, {"OR", "REPLACE", "FUNCTION"}, {"OR", "REPLACE", "AGGREGATE"}}

// rewriteStatement renames keyspace from to to in one CREATE statement, adds IF NOT EXISTS,
// and for the keyspace itself replaces the replication map when one is given.
func rewriteStatement(stmt, from, to, replication string) (string, error) {
	toks, err := cql.Lex(strings.TrimSpace(stmt))
	if err != nil {
		return "", err
	}
	for len(toks) > 0 && (toks[len(toks)-1].Kind == cql.Space || toks[len(toks)-1].Text == ";") {
		toks = toks[:len(toks)-1]
	}
	// Significant tokens, by index into toks.
	var sig []int
	for i, t := range toks {
		if t.Kind != cql.Space {
			sig = append(sig, i)
		}
	}
	at := func(k int) cql.Token {
		if k < len(sig) {
			return toks[sig[k]]
		}
		return cql.Token{}
	}
	if !at(0).Is("CREATE") {
		return "", fmt.Errorf("not a CREATE statement: %.60s", stmt)
	}
	kind := -1
	for i, kw := range createKinds {
		ok := true
		for j, w := range kw {
			ok = ok && at(1+j).Is(w)
		}
		if ok {
			kind = i
			break
		}
	}
	if kind < 0 {
		return "", fmt.Errorf("unknown CREATE statement: %.60s", stmt)
	}
	kwEnd := 1 + len(createKinds[kind]) // index in sig after the kind's words
	orReplace := createKinds[kind][0] == "OR"
	hasIfNotExists := at(kwEnd).Is("IF") && at(kwEnd+1).Is("NOT") && at(kwEnd+2).Is("EXISTS")

	// Qualified names: NAME . NAME where the first is the source keyspace.
	for k := 0; k+2 < len(sig); k++ {
		a, dot := at(k), at(k+1)
		if name, ok := a.Name(); ok && name == from && dot.Text == "." {
			if _, ok := at(k + 2).Name(); ok {
				toks[sig[k]] = cql.Token{Kind: cql.QuotedName, Text: cql.Quote(to)}
			}
		}
	}
	if createKinds[kind][0] == "KEYSPACE" {
		nameAt := kwEnd
		if hasIfNotExists {
			nameAt += 3
		}
		toks[sig[nameAt]] = cql.Token{Kind: cql.QuotedName, Text: cql.Quote(to)}
		if replication != "" {
			if err := replaceReplication(toks, sig, replication); err != nil {
				return "", err
			}
		}
	}
	out := cql.Join(toks)
	if !hasIfNotExists && !orReplace {
		// Insert IF NOT EXISTS after the kind's words.
		cut := sig[kwEnd-1] + 1
		out = cql.Join(toks[:cut]) + " IF NOT EXISTS" + cql.Join(toks[cut:])
	}
	return out, nil
}

// replaceReplication swaps the map after "replication =" for replication.
func replaceReplication(toks []cql.Token, sig []int, replication string) error {
	for k := 0; k+2 < len(sig); k++ {
		if !toks[sig[k]].Is("replication") || toks[sig[k+1]].Text != "=" || toks[sig[k+2]].Text != "{" {
			continue
		}
		start := sig[k+2]
		depth := 0
		for i := start; i < len(toks); i++ {
			switch toks[i].Text {
			case "{":
				depth++
			case "}":
				depth--
			}
			if depth == 0 {
				toks[start] = cql.Token{Kind: cql.Punct, Text: replication}
				for j := start + 1; j <= i; j++ {
					toks[j] = cql.Token{}
				}
				return nil
			}
		}
		return fmt.Errorf("unbalanced replication map")
	}
	return fmt.Errorf("no replication map in the keyspace's statement")
}

// CheckReplication checks that a replication override is one CQL map, so it cannot carry
// a second statement or anything else into the keyspace's CREATE.
func CheckReplication(replication string) error {
	toks, err := cql.Lex(replication)
	if err != nil {
		return fmt.Errorf("--replication %q: %w", replication, err)
	}
	depth, seenMap := 0, false
	for _, t := range toks {
		switch {
		case t.Kind == cql.Space:
		case t.Text == "{":
			if seenMap && depth == 0 {
				return fmt.Errorf("--replication %q: one map, such as {'class': 'NetworkTopologyStrategy', 'dc2': 3}", replication)
			}
			depth++
			seenMap = true
		case t.Text == "}":
			depth--
		case depth == 0:
			return fmt.Errorf("--replication %q: one map, such as {'class': 'NetworkTopologyStrategy', 'dc2': 3}", replication)
		case t.Kind == cql.Punct && t.Text != ":" && t.Text != ",":
			return fmt.Errorf("--replication %q: unexpected %q in the map", replication, t.Text)
		}
	}
	if depth != 0 || !seenMap {
		return fmt.Errorf("--replication %q: one map, such as {'class': 'NetworkTopologyStrategy', 'dc2': 3}", replication)
	}
	return nil
}
