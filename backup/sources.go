package backup

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"
	"github.com/gocql/gocql"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/apimctl/apimctl/internal/cql"
)

// Cassandra writes a keyspace: its schema as CQL (server-side DESCRIBE, Cassandra 4.0+) and
// each table as JSON lines (SELECT JSON, read at QUORUM and paged), which INSERT JSON takes
// back unchanged.
func Cassandra(ctx context.Context, s *gocql.Session, keyspace string, w *Writer) error {
	if !cql.Identifier(keyspace) {
		return fmt.Errorf("keyspace name %q is not a plain CQL identifier", keyspace)
	}
	pw, err := w.Part("cassandra-schema", keyspace, "cassandra/"+keyspace+"/schema.cql")
	if err != nil {
		return err
	}
	it := s.Query("DESCRIBE KEYSPACE " + keyspace).WithContext(ctx).Iter()
	row := map[string]any{}
	for it.MapScan(row) {
		if stmt, _ := row["create_statement"].(string); stmt != "" {
			fmt.Fprintln(pw, stmt)
			fmt.Fprintln(pw)
			pw.Items++
		}
		row = map[string]any{}
	}
	if err := it.Close(); err != nil {
		pw.Close()
		return fmt.Errorf("cassandra: describe %s: %w", keyspace, err)
	}
	if err := pw.Close(); err != nil {
		return err
	}

	var tables []string
	it = s.Query("SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?", keyspace).WithContext(ctx).Iter()
	var t string
	for it.Scan(&t) {
		tables = append(tables, t)
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("cassandra: tables of %s: %w", keyspace, err)
	}
	for _, t := range tables {
		if !cql.Identifier(t) {
			return fmt.Errorf("table name %q is not a plain CQL identifier", t)
		}
		pw, err := w.Part("cassandra-table", keyspace+"."+t, "cassandra/"+keyspace+"/"+t+".jsonl")
		if err != nil {
			return err
		}
		bw := bufio.NewWriterSize(pw, 64<<10)
		it := s.Query("SELECT JSON * FROM " + keyspace + "." + t).WithContext(ctx).Consistency(gocql.Quorum).PageSize(1000).Iter()
		var line string
		for it.Scan(&line) {
			bw.WriteString(line)
			bw.WriteByte('\n')
			pw.Items++
		}
		if err := it.Close(); err != nil {
			pw.Close()
			if strings.Contains(err.Error(), "unconfigured table") {
				// Dropped since the list was read: nothing to keep; say so.
				w.Note("cassandra table %s.%s was dropped during the backup", keyspace, t)
				continue
			}
			return fmt.Errorf("cassandra: read %s.%s at QUORUM: %w", keyspace, t, err)
		}
		if err := bw.Flush(); err != nil {
			pw.Close()
			return err
		}
		if err := pw.Close(); err != nil {
			return err
		}
	}
	return nil
}

// MySQL writes a database as SQL a client can replay: each table's CREATE TABLE and its rows
// as multi-row INSERTs, read in one consistent snapshot (REPEATABLE READ, START TRANSACTION
// WITH CONSISTENT SNAPSHOT), as mysqldump --single-transaction does.
func MySQL(ctx context.Context, db *sql.DB, database string, w *Writer) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("mysql: %w", err)
	}
	defer conn.Close()
	for _, q := range []string{"SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("mysql: %s: %w", q, err)
		}
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK") //nolint:errcheck
	tables, err := strings1(ctx, conn, "SHOW FULL TABLES WHERE Table_type = 'BASE TABLE'")
	if err != nil {
		return err
	}
	pw, err := w.Part("mysql", database, "mysql/"+database+".sql")
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(pw, 64<<10)
	fmt.Fprintf(bw, "-- apimctl backup of MySQL database %s\nSET NAMES utf8mb4;\nSET FOREIGN_KEY_CHECKS=0;\n\n", quoteIdent(database))
	for _, t := range tables {
		var name, create string
		if err := conn.QueryRowContext(ctx, "SHOW CREATE TABLE "+quoteIdent(t)).Scan(&name, &create); err != nil {
			pw.Close()
			return fmt.Errorf("mysql: show create table %s: %w", t, err)
		}
		fmt.Fprintf(bw, "DROP TABLE IF EXISTS %s;\n%s;\n\n", quoteIdent(t), create)
		n, err := dumpRows(ctx, conn, t, bw)
		if err != nil {
			pw.Close()
			return err
		}
		pw.Items += n
	}
	bw.WriteString("SET FOREIGN_KEY_CHECKS=1;\n")
	if err := bw.Flush(); err != nil {
		pw.Close()
		return err
	}
	return pw.Close()
}

func strings1(ctx context.Context, conn *sql.Conn, q string) ([]string, error) {
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("mysql: %s: %w", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		var first string
		vals[0] = &first
		for i := 1; i < len(cols); i++ {
			vals[i] = new(any)
		}
		if err := rows.Scan(vals...); err != nil {
			return nil, err
		}
		out = append(out, first)
	}
	return out, rows.Err()
}

// dumpRows writes a table's rows as INSERTs of up to 500 rows. Values are read as the
// server's text (no conversion, no allocation per value) and written as literals by column
// type: numbers as they are, binary as hex, the rest quoted.
func dumpRows(ctx context.Context, conn *sql.Conn, table string, w io.Writer) (int64, error) {
	rows, err := conn.QueryContext(ctx, "SELECT * FROM "+quoteIdent(table))
	if err != nil {
		return 0, fmt.Errorf("mysql: read %s: %w", table, err)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return 0, err
	}
	head := "INSERT INTO " + quoteIdent(table) + " ("
	kinds := make([]literalKind, len(types))
	for i, c := range types {
		if i > 0 {
			head += ","
		}
		head += quoteIdent(c.Name())
		kinds[i] = kindOf(c.DatabaseTypeName())
	}
	head += ") VALUES\n"
	vals := make([]sql.RawBytes, len(types))
	ptrs := make([]any, len(types))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var n int64
	inBatch := 0
	buf := make([]byte, 0, 512)
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		buf = buf[:0]
		if inBatch == 0 {
			buf = append(buf, head...)
		} else {
			buf = append(buf, ",\n"...)
		}
		buf = append(buf, '(')
		for i, v := range vals {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendLiteral(buf, kinds[i], v)
		}
		buf = append(buf, ')')
		n++
		if inBatch++; inBatch == 500 {
			buf = append(buf, ";\n"...)
			inBatch = 0
		}
		if _, err := w.Write(buf); err != nil {
			return n, err
		}
	}
	if inBatch > 0 {
		io.WriteString(w, ";\n")
	}
	io.WriteString(w, "\n")
	return n, rows.Err()
}

type literalKind int

const (
	quoted literalKind = iota
	number
	binary
)

// kindOf tells how a column's values are written, from the driver's type name.
func kindOf(dbType string) literalKind {
	switch strings.ToUpper(dbType) {
	case "TINYINT", "SMALLINT", "MEDIUMINT", "INT", "INTEGER", "BIGINT", "UNSIGNED TINYINT", "UNSIGNED SMALLINT",
		"UNSIGNED MEDIUMINT", "UNSIGNED INT", "UNSIGNED BIGINT", "DECIMAL", "FLOAT", "DOUBLE", "YEAR":
		return number
	case "BINARY", "VARBINARY", "TINYBLOB", "BLOB", "MEDIUMBLOB", "LONGBLOB", "BIT", "GEOMETRY":
		return binary
	}
	return quoted
}

const hexDigits = "0123456789ABCDEF"

// appendLiteral writes one value (nil: NULL) as a literal of its kind.
func appendLiteral(b []byte, k literalKind, v sql.RawBytes) []byte {
	switch {
	case v == nil:
		return append(b, "NULL"...)
	case k == number:
		return append(b, v...)
	case k == binary && len(v) == 0:
		return append(b, "''"...)
	case k == binary:
		b = append(b, "0x"...)
		for _, c := range v {
			b = append(b, hexDigits[c>>4], hexDigits[c&15])
		}
		return b
	}
	return appendQuoted(b, v)
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// appendQuoted quotes a string the way mysql_real_escape_string does.
func appendQuoted[T string | []byte | sql.RawBytes](b []byte, s T) []byte {
	b = append(b, '\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case 0:
			b = append(b, '\\', '0')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\\', '\'', '"':
			b = append(b, '\\', c)
		case 0x1a:
			b = append(b, '\\', 'Z')
		default:
			b = append(b, c)
		}
	}
	return append(b, '\'')
}

// Kubernetes writes the namespace's resources as YAML (server-set fields removed, so they
// apply to another cluster) and its Secrets encrypted to the age recipients; without a
// recipient the Secrets are left out and the manifest says so.
//
// It returns the images the namespace's Deployments and StatefulSets run (without digests).
func Kubernetes(ctx context.Context, cs kubernetes.Interface, ns string, recipients []age.Recipient, w *Writer) ([]Image, error) {
	var objs []runtime.Object
	add := func(kind string, list runtime.Object, err error) error {
		if err != nil {
			return fmt.Errorf("kubernetes: list %s: %w", kind, err)
		}
		items, err := metaItems(list)
		if err != nil {
			return err
		}
		objs = append(objs, items...)
		return nil
	}
	lo := metav1.ListOptions{}
	apps, core := cs.AppsV1(), cs.CoreV1()
	for _, f := range []func() error{
		func() error { l, err := apps.Deployments(ns).List(ctx, lo); return add("deployments", l, err) },
		func() error { l, err := apps.StatefulSets(ns).List(ctx, lo); return add("statefulsets", l, err) },
		func() error { l, err := core.Services(ns).List(ctx, lo); return add("services", l, err) },
		func() error { l, err := core.ConfigMaps(ns).List(ctx, lo); return add("configmaps", l, err) },
		func() error { l, err := core.ServiceAccounts(ns).List(ctx, lo); return add("serviceaccounts", l, err) },
		func() error {
			l, err := cs.AutoscalingV2().HorizontalPodAutoscalers(ns).List(ctx, lo)
			return add("horizontalpodautoscalers", l, err)
		},
		func() error {
			l, err := cs.PolicyV1().PodDisruptionBudgets(ns).List(ctx, lo)
			return add("poddisruptionbudgets", l, err)
		},
		func() error { l, err := cs.NetworkingV1().Ingresses(ns).List(ctx, lo); return add("ingresses", l, err) },
	} {
		if err := f(); err != nil {
			return nil, err
		}
	}
	var images []Image
	for _, o := range objs {
		var pod *corev1.PodSpec
		switch x := o.(type) {
		case *appsv1.Deployment:
			pod = &x.Spec.Template.Spec
		case *appsv1.StatefulSet:
			pod = &x.Spec.Template.Spec
		default:
			continue
		}
		acc, _ := meta.Accessor(o)
		for _, c := range pod.Containers {
			images = append(images, Image{Workload: strings.ToLower(o.GetObjectKind().GroupVersionKind().Kind) + "/" + acc.GetName(), Image: c.Image})
		}
	}
	pw, err := w.Part("kube", ns, "kube/resources.yaml")
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		if cm, ok := o.(*corev1.ConfigMap); ok && cm.Name == "kube-root-ca.crt" {
			continue // the cluster's own, recreated in every namespace
		}
		if sa, ok := o.(*corev1.ServiceAccount); ok && sa.Name == "default" {
			continue
		}
		if err := writeYAML(pw, o); err != nil {
			pw.Close()
			return nil, err
		}
		pw.Items++
	}
	if err := pw.Close(); err != nil {
		return nil, err
	}

	if len(recipients) == 0 {
		w.Note("Kubernetes Secrets left out: no age recipient (--recipient, or APIMCTL_BACKUP_RECIPIENTS for the console)")
		return images, nil
	}
	secrets, err := core.Secrets(ns).List(ctx, lo)
	if err != nil {
		return nil, fmt.Errorf("kubernetes: list secrets: %w", err)
	}
	pw, err = w.Part("kube-secrets", ns, "kube/secrets.yaml.age")
	if err != nil {
		return nil, err
	}
	enc, err := age.Encrypt(pw, recipients...)
	if err != nil {
		pw.Close()
		return nil, err
	}
	for i := range secrets.Items {
		s := &secrets.Items[i]
		if s.Type == corev1.SecretTypeServiceAccountToken {
			continue
		}
		if err := writeYAML(enc, s); err != nil {
			pw.Close()
			return nil, err
		}
		pw.Items++
	}
	if err := enc.Close(); err != nil {
		pw.Close()
		return nil, err
	}
	return images, pw.Close()
}

// metaItems returns the items of a typed list, each with its kind and apiVersion set (typed
// lists leave them empty, and a manifest without them cannot be applied).
func metaItems(list runtime.Object) ([]runtime.Object, error) {
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	for _, o := range items {
		gvks, _, err := scheme.Scheme.ObjectKinds(o)
		if err != nil || len(gvks) == 0 {
			return nil, fmt.Errorf("kubernetes: kind of %T: %v", o, err)
		}
		o.GetObjectKind().SetGroupVersionKind(gvks[0])
	}
	return items, nil
}

// writeYAML writes one object as a YAML document with the fields the server sets removed.
func writeYAML(w io.Writer, o runtime.Object) error {
	if o.GetObjectKind().GroupVersionKind().Kind == "" {
		if gvks, _, err := scheme.Scheme.ObjectKinds(o); err == nil && len(gvks) > 0 {
			o.GetObjectKind().SetGroupVersionKind(gvks[0])
		}
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		return err
	}
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok {
		for _, k := range []string{"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink", "ownerReferences"} {
			delete(md, k)
		}
		if ann, ok := md["annotations"].(map[string]any); ok {
			delete(ann, "kubectl.kubernetes.io/last-applied-configuration")
			delete(ann, "deployment.kubernetes.io/revision")
			if len(ann) == 0 {
				delete(md, "annotations")
			}
		}
	}
	if spec, ok := m["spec"].(map[string]any); ok && m["kind"] == "Service" {
		delete(spec, "clusterIP") // allocated by the target cluster
		delete(spec, "clusterIPs")
	}
	b, err := yaml.Marshal(m)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, "---\n"); err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
