package backup

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeBackup(t *testing.T, root string, at time.Time, files map[string]string) string {
	t.Helper()
	w, err := Create(root, NewID(at, "apim"), Source{Namespace: "apim"}, at)
	if err != nil {
		t.Fatal(err)
	}
	for rel, content := range files {
		pw, err := w.Part("test", rel, rel)
		if err != nil {
			t.Fatal(err)
		}
		pw.Write([]byte(content))
		pw.Items = int64(strings.Count(content, "\n"))
		if err := pw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Finish(at); err != nil {
		t.Fatal(err)
	}
	return w.Dir()
}

func TestWriteVerifyTamper(t *testing.T) {
	root := t.TempDir()
	at := time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC)
	dir := writeBackup(t, root, at, map[string]string{"cassandra/ks/t.jsonl": "{\"a\":1}\n{\"a\":2}\n", "mysql/m.sql": "SELECT 1;\n"})
	if filepath.Base(dir) != "20261128T030000Z-apim" {
		t.Errorf("id %s", filepath.Base(dir))
	}
	if info, _ := os.Stat(dir); info.Mode().Perm() != 0o700 {
		t.Errorf("backup directory mode %v, want 0700", info.Mode().Perm())
	}
	m, probs, err := Verify(dir)
	if err != nil || len(probs) != 0 || len(m.Parts) != 2 {
		t.Fatalf("fresh backup: %v %v %+v", err, probs, m)
	}
	if _, err := Create(root, filepath.Base(dir), Source{}, at); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second backup with the same id: %v", err)
	}

	// One byte changed, one file gone, one file added: each is named.
	p := filepath.Join(dir, "cassandra", "ks", "t.jsonl")
	b, _ := os.ReadFile(p)
	b[3] = '9'
	os.WriteFile(p, b, 0o600)
	os.Remove(filepath.Join(dir, "mysql", "m.sql"))
	os.WriteFile(filepath.Join(dir, "stray.txt"), []byte("x"), 0o600)
	_, probs, err = Verify(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range probs {
		got[p.Path] = p.Issue
	}
	if got["cassandra/ks/t.jsonl"] != "checksum differs from the manifest" || got["mysql/m.sql"] != "missing" || got["stray.txt"] != "not in the manifest" || len(got) != 3 {
		t.Errorf("problems %v", got)
	}

	if _, _, err := Verify(root); err == nil || !strings.Contains(err.Error(), "not a backup") {
		t.Errorf("verify of a directory without manifest: %v", err)
	}
	if _, err := (&Writer{dir: dir}).Part("x", "x", "../escape"); err == nil {
		t.Error("a part path outside the backup was accepted")
	}
}

func TestListAndPrune(t *testing.T) {
	root := t.TempDir()
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range 4 {
		writeBackup(t, root, base.Add(time.Duration(i)*24*time.Hour), map[string]string{"f": "x\n"})
	}
	// An unfinished one older than the newest, and one newer than everything (being written).
	os.MkdirAll(filepath.Join(root, "20261102T120000Z-apim"), 0o700)
	os.Chtimes(filepath.Join(root, "20261102T120000Z-apim"), base.Add(36*time.Hour), base.Add(36*time.Hour))
	os.MkdirAll(filepath.Join(root, "20261130T000000Z-apim"), 0o700)
	all, err := List(root)
	if err != nil || len(all) != 6 {
		t.Fatalf("list: %v %d", err, len(all))
	}
	drop, err := PrunePlan(root, 2)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range drop {
		ids = append(ids, s.ID)
	}
	if strings.Join(ids, " ") != "20261102T120000Z-apim 20261102T000000Z-apim 20261101T000000Z-apim" {
		t.Errorf("prune --keep 2 drops %v", ids)
	}
	if _, err := PrunePlan(root, 0); err == nil {
		t.Error("keep 0 accepted")
	}
	for _, s := range drop {
		if err := Remove(root, s); err != nil {
			t.Fatal(err)
		}
	}
	if all, _ = List(root); len(all) != 3 {
		t.Errorf("%d left after prune, want 3", len(all))
	}
	if err := Remove(root, Summary{Dir: "/etc"}); err == nil {
		t.Error("Remove outside the root accepted")
	}
}

func TestSQLLiterals(t *testing.T) {
	for _, c := range []struct {
		kind literalKind
		v    []byte
		want string
	}{
		{quoted, nil, "NULL"},
		{number, nil, "NULL"},
		{number, []byte("-3.25"), "-3.25"},
		{quoted, []byte(""), "''"},
		{quoted, []byte("it's \"x\"\\\n\r\x00\x1a"), `'it\'s \"x\"\\\n\r\0\Z'`},
		{quoted, []byte("2026-01-02 03:04:05.600000"), "'2026-01-02 03:04:05.600000'"},
		{binary, []byte{0, 0xab, '\''}, "0x00AB27"},
		{binary, []byte{}, "''"},
	} {
		if got := string(appendLiteral(nil, c.kind, c.v)); got != c.want {
			t.Errorf("%d %q: %s, want %s", c.kind, c.v, got, c.want)
		}
	}
	for typ, k := range map[string]literalKind{"INT": number, "UNSIGNED BIGINT": number, "DECIMAL": number, "VARCHAR": quoted,
		"DATETIME": quoted, "VARBINARY": binary, "BLOB": binary, "TEXT": quoted, "JSON": quoted} {
		if kindOf(typ) != k {
			t.Errorf("kindOf(%s) = %d, want %d", typ, kindOf(typ), k)
		}
	}
	if quoteIdent("we`ird") != "`we``ird`" {
		t.Error("identifier quoting")
	}
}

// TestVerifyReportsProgressAndStops: each part is reported before it is read, then the
// end; a cancelled context stops the verification with its error.
func TestVerifyReportsProgressAndStops(t *testing.T) {
	at := time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC)
	dir := writeBackup(t, t.TempDir(), at, map[string]string{"a": "12345", "b": "678"})
	var seen []VerifyProgress
	_, probs, err := VerifyWithProgress(context.Background(), dir, func(p VerifyProgress) { seen = append(seen, p) })
	if err != nil || len(probs) != 0 {
		t.Fatal(err, probs)
	}
	if len(seen) != 3 || seen[0].Files != 0 || seen[0].TotalFiles != 2 || seen[0].TotalBytes != 8 ||
		seen[2].Files != 2 || seen[2].Bytes != 8 || seen[2].Path != "" || seen[1].Path == seen[0].Path {
		t.Errorf("progress %+v", seen)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := VerifyWithProgress(ctx, dir, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled verify: %v", err)
	}
}
