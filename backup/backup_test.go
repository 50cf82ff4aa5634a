package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var bg = context.Background()

func writeBackup(t *testing.T, root string, at time.Time, files map[string]string) string {
	t.Helper()
	w, err := Create(bg, Dir(root), NewID(at, "apim"), Source{Namespace: "apim"}, at)
	if err != nil {
		t.Fatal(err)
	}
	for rel, content := range files {
		pw, err := w.Part(bg, Part{Kind: "test", Name: rel, Path: rel, Compression: Zstd})
		if err != nil {
			t.Fatal(err)
		}
		pw.Write([]byte(content))
		pw.Items = int64(strings.Count(content, "\n"))
		if err := pw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Finish(bg, at); err != nil {
		t.Fatal(err)
	}
	return w.Dir()
}

// finishOpen finishes w's backup at time at and opens it.
func finishOpen(t *testing.T, ctx context.Context, w *Writer, at time.Time) *Backup {
	t.Helper()
	if _, err := w.Finish(ctx, at); err != nil {
		t.Fatal(err)
	}
	b, err := Open(ctx, w.Location(), w.ID())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWriteVerifyTamper(t *testing.T) {
	root := t.TempDir()
	at := time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC)
	big := strings.Repeat("{\"a\":1}\n", 10000)
	dir := writeBackup(t, root, at, map[string]string{"cassandra/ks/t.zst": big, "mysql/m.zst": "SELECT 1;\n"})
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
	for _, p := range m.Parts {
		if p.Path == "cassandra/ks/t.zst" && (p.Raw != int64(len(big)) || p.Bytes >= p.Raw/10) {
			t.Errorf("compressed part: %d bytes stored for %d raw", p.Bytes, p.Raw)
		}
	}
	b, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := b.Open(bg, m.Parts[0])
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || string(got) != big {
		t.Fatalf("read back %d bytes, %v", len(got), err)
	}
	if _, err := Create(bg, Dir(root), filepath.Base(dir), Source{}, at); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second backup with the same id: %v", err)
	}

	// One byte changed, one file gone, one file added: each is named, by verify and by a
	// restore reading the part.
	p := filepath.Join(dir, "cassandra", "ks", "t.zst")
	data, _ := os.ReadFile(p)
	data[len(data)/2] ^= 0xff
	os.WriteFile(p, data, 0o600)
	os.Remove(filepath.Join(dir, "mysql", "m.zst"))
	os.WriteFile(filepath.Join(dir, "stray.txt"), []byte("x"), 0o600)
	_, probs, err = Verify(dir)
	if err != nil {
		t.Fatal(err)
	}
	gotp := map[string]string{}
	for _, p := range probs {
		gotp[p.Path] = p.Issue
	}
	if gotp["cassandra/ks/t.zst"] != "checksum differs from the manifest" || gotp["mysql/m.zst"] != "missing" || gotp["stray.txt"] != "not in the manifest" || len(gotp) != 3 {
		t.Errorf("problems %v", gotp)
	}
	for _, part := range m.Parts {
		r, err := b.Open(bg, part)
		if err == nil {
			_, err = io.ReadAll(r)
			r.Close()
		}
		if err == nil || !strings.Contains(err.Error(), part.Path) {
			t.Errorf("reading damaged part %s: %v", part.Path, err)
		}
	}
	// Truncated.
	os.WriteFile(p, data[:len(data)/3], 0o600)
	r, _ = b.Open(bg, m.Parts[0])
	_, err = io.ReadAll(r)
	if err == nil || !strings.Contains(err.Error(), "cassandra/ks/t.zst") {
		t.Errorf("truncated part: %v", err)
	}

	if _, _, err := Verify(root); err == nil || !strings.Contains(err.Error(), "not a backup") {
		t.Errorf("verify of a directory without manifest: %v", err)
	}
	w := &Writer{loc: Dir(root), id: "x"}
	for _, bad := range []string{"../escape", "/abs", "a/../../b", "a//b", "a\\b"} {
		if _, err := w.Part(bg, Part{Path: bad}); err == nil {
			t.Errorf("part path %q accepted", bad)
		}
	}
}

func TestNewerFormatAndHostileManifest(t *testing.T) {
	root := t.TempDir()
	at := time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC)
	dir := writeBackup(t, root, at, map[string]string{"f.zst": "x\n"})
	mf := filepath.Join(dir, ManifestFile)
	orig, _ := os.ReadFile(mf)
	edit := func(f func(m map[string]any)) {
		var m map[string]any
		json.Unmarshal(orig, &m)
		f(m)
		b, _ := json.Marshal(m)
		os.WriteFile(mf, b, 0o600)
	}
	edit(func(m map[string]any) { m["format"] = FormatVersion + 1 })
	_, err := OpenDir(dir)
	if !errors.Is(err, ErrNewerFormat) || !strings.Contains(err.Error(), "newer apimctl") {
		t.Errorf("newer format: %v", err)
	}
	edit(func(m map[string]any) { m["parts"].([]any)[0].(map[string]any)["path"] = "../../etc/passwd" })
	if _, err := OpenDir(dir); err == nil {
		t.Error("a part path leaving the backup was accepted")
	}
	edit(func(m map[string]any) { m["parts"].([]any)[0].(map[string]any)["ref"] = "../other" })
	if _, err := OpenDir(dir); err == nil {
		t.Error("a reference leaving the location was accepted")
	}
	os.WriteFile(mf, []byte("{not json"), 0o600)
	if _, err := OpenDir(dir); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("damaged manifest: %v", err)
	}
}

func TestListAndPrune(t *testing.T) {
	root := t.TempDir()
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range 4 {
		writeBackup(t, root, base.Add(time.Duration(i)*24*time.Hour), map[string]string{"f": "x\n"})
	}
	// An unfinished one older than the newest, and one newer than everything (being written).
	old := filepath.Join(root, "20261102T120000Z-apim")
	os.MkdirAll(old, 0o700)
	os.WriteFile(filepath.Join(old, "part"), []byte("x"), 0o600)
	os.Chtimes(filepath.Join(old, "part"), base.Add(36*time.Hour), base.Add(36*time.Hour))
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
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("pruned directory left: %v", err)
	}
	if err := Remove(root, Summary{Dir: "/etc", ID: "etc"}); err == nil {
		t.Error("Remove outside the root accepted")
	}
}

func TestSQLLiterals(t *testing.T) {
	for _, c := range []struct {
		kind literalKind
		v    []byte
		want string
	}{
		{litQuoted, nil, "NULL"},
		{litNumber, nil, "NULL"},
		{litNumber, []byte("-3.25"), "-3.25"},
		{litNumber, []byte("12345678901234567890.123456789012"), "12345678901234567890.123456789012"},
		{litQuoted, []byte(""), "''"},
		{litQuoted, []byte("it's \"x\"\\\n\r\x00\x1a"), `'it\'s \"x\"\\\n\r\0\Z'`},
		{litQuoted, []byte("2026-01-02 03:04:05.600000"), "'2026-01-02 03:04:05.600000'"},
		{litBinary, []byte{0, 0xab, '\''}, "0x00AB27"},
		{litBinary, []byte{}, "''"},
	} {
		if got := string(appendLiteral(nil, c.kind, c.v)); got != c.want {
			t.Errorf("%d %q: %s, want %s", c.kind, c.v, got, c.want)
		}
	}
	for typ, k := range map[string]literalKind{"int": litNumber, "bigint": litNumber, "decimal": litNumber, "varchar": litQuoted,
		"datetime": litQuoted, "varbinary": litBinary, "blob": litBinary, "text": litQuoted, "json": litQuoted, "bit": litBinary,
		"point": litBinary, "geometry": litBinary, "enum": litQuoted, "set": litQuoted, "float": litNumber} {
		if kindOf(typ) != k {
			t.Errorf("kindOf(%s) = %d, want %d", typ, kindOf(typ), k)
		}
	}
	if quoteIdent("we`ird") != "`we``ird`" {
		t.Error("identifier quoting")
	}
	view := "CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `v` AS select `metrics`.`t`.`a` AS `a`,'`metrics`.' AS `s` from `metrics`.`t`"
	got := renameDatabase(stripDefiner(view), "metrics", "metrics_dr")
	want := "CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v` AS select `metrics_dr`.`t`.`a` AS `a`,'`metrics`.' AS `s` from `metrics_dr`.`t`"
	if got != want {
		t.Errorf("view rewrite:\n%s\nwant\n%s", got, want)
	}
}

func TestPathElem(t *testing.T) {
	for in, want := range map[string]string{"plain_1": "plain_1", "MixedCase": "%4Dixed%43ase", "../x": "%2E%2E%2Fx", "a/b": "a%2Fb", "": "%"} {
		if got := pathElem(in); got != want {
			t.Errorf("pathElem(%q) = %q, want %q", in, got, want)
		}
	}
	if pathElem("T") == pathElem("t") {
		t.Error("names differing in case share a path")
	}
}

func TestJournal(t *testing.T) {
	p := filepath.Join(t.TempDir(), "j", "state.json")
	j, err := OpenJournal(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Set("a", "done"); err != nil {
		t.Fatal(err)
	}
	j.Set("b", "x")
	j.Set("b", "")
	j2, err := OpenJournal(p)
	if err != nil || j2.Get("a") != "done" || j2.Get("b") != "" {
		t.Errorf("reopened journal: %v %q %q", err, j2.Get("a"), j2.Get("b"))
	}
	if info, _ := os.Stat(p); info.Mode().Perm() != 0o600 {
		t.Errorf("journal mode %v", info.Mode().Perm())
	}
	os.WriteFile(p, []byte("{"), 0o600)
	if _, err := OpenJournal(p); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("damaged journal: %v", err)
	}
	if err := j.Remove(); err != nil {
		t.Fatal(err)
	}
	a := JournalName("b1", "prod", "ks=ks_dr", "metrics", "apim")
	if a != JournalName("b1", "prod", "ks=ks_dr", "metrics", "apim") || a == JournalName("b1", "dr", "ks=ks_dr", "metrics", "apim") ||
		JournalName("ab", "c") == JournalName("a", "bc") || strings.ContainsAny(a, "/\\ ") {
		t.Errorf("journal names: %s", a)
	}
}

func TestCopyResumes(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	at := time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC)
	dir := writeBackup(t, src, at, map[string]string{"a.zst": "aaa\n", "b.zst": strings.Repeat("b", 1000)})
	id := filepath.Base(dir)
	// An earlier copy stopped after one part, and left a damaged one.
	m, _ := ReadManifest(dir)
	if err := copyObject(bg, Dir(src), Dir(dst), id+"/a.zst", m.Parts[0]); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dst, id, "b.zst"), []byte("junk"), 0o600)
	var sent, skipped []string
	if _, err := Copy(bg, Dir(src), Dir(dst), id, func(p Part, skip bool) {
		if skip {
			skipped = append(skipped, p.Path)
		} else {
			sent = append(sent, p.Path)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(skipped, ",") != "a.zst" || strings.Join(sent, ",") != "b.zst" {
		t.Errorf("resumed copy sent %v, skipped %v", sent, skipped)
	}
	if _, probs, err := VerifyAt(bg, Dir(dst), id); err != nil || len(probs) > 0 {
		t.Errorf("the copy: %v %v", err, probs)
	}
}

func TestFilesIncremental(t *testing.T) {
	src, root := t.TempDir(), t.TempDir()
	write := func(rel, content string, mod time.Time) {
		p := filepath.Join(src, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o640)
		os.Chtimes(p, mod, mod)
	}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	write("gw1/events-1.log", "event one\n", t0)
	write("gw1/events-2.log", "event two\n", t0)
	write("gw2/trace.log", "trace\n", t0)
	os.Symlink("/etc/passwd", filepath.Join(src, "link"))
	loc := Dir(root)
	backupAt := func(at time.Time, prev *Backup) (*Backup, *FilesResult) {
		w, err := Create(bg, loc, NewID(at, "apim"), Source{}, at)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Files(bg, w, SetEvents, src, FilesOptions{Previous: prev})
		if err != nil {
			t.Fatal(err)
		}
		return finishOpen(t, bg, w, at), res
	}
	b1, r1 := backupAt(t0.Add(time.Hour), nil)
	if r1.Copied != 3 || r1.Referenced != 0 || len(r1.Skipped) != 1 {
		t.Errorf("first: %+v", r1)
	}
	write("gw1/events-2.log", "event two, longer now\n", t0.Add(2*time.Hour))
	write("gw1/events-3.log", "event three\n", t0.Add(2*time.Hour))
	b2, r2 := backupAt(t0.Add(3*time.Hour), b1)
	if r2.Copied != 2 || r2.Referenced != 2 {
		t.Errorf("second: %+v", r2)
	}
	_, r3 := backupAt(t0.Add(4*time.Hour), b2)
	if r3.Copied != 0 || r3.Referenced != 4 {
		t.Errorf("third: %+v", r3)
	}
	// References point at the backup holding the bytes, never at another reference.
	for _, p := range b2.Manifest.Parts {
		if p.Ref != "" && p.Ref != b1.ID {
			t.Errorf("part %s refers to %s", p.Path, p.Ref)
		}
	}
	// The earlier backups are kept while a kept one refers to them.
	drop, _ := PrunePlanAt(bg, loc, 1)
	if len(drop) != 0 {
		t.Errorf("prune --keep 1 drops %+v, which the newest refers to", drop)
	}
	if _, probs, err := VerifyAt(bg, loc, NewID(t0.Add(4*time.Hour), "apim")); err != nil || len(probs) > 0 {
		t.Errorf("verify of the incremental backup: %v %v", err, probs)
	}
	// Restored on its own, the newest holds every file as it was.
	out := t.TempDir()
	b3, _ := Open(bg, loc, NewID(t0.Add(4*time.Hour), "apim"))
	n, err := RestoreFiles(bg, b3, SetEvents, out)
	if err != nil || n != 4 {
		t.Fatalf("restore: %d %v", n, err)
	}
	got, _ := os.ReadFile(filepath.Join(out, "gw1", "events-2.log"))
	info, _ := os.Stat(filepath.Join(out, "gw1", "events-2.log"))
	if string(got) != "event two, longer now\n" || !info.ModTime().Equal(t0.Add(2*time.Hour)) || info.Mode().Perm() != 0o640 {
		t.Errorf("restored file %q %v %v", got, info.ModTime(), info.Mode())
	}
	if _, err := os.Lstat(filepath.Join(out, "link")); err == nil {
		t.Error("a symbolic link was backed up")
	}
	if _, err := RestoreFiles(bg, b3, SetPackages, out); err == nil {
		t.Error("restoring a file set the backup lacks succeeded")
	}
}

func TestPackagesOnly(t *testing.T) {
	src, root := t.TempDir(), t.TempDir()
	for _, f := range []string{"group.fed", "policy.POL", "prod.env", "notes.txt"} {
		os.WriteFile(filepath.Join(src, f), []byte(f), 0o600)
	}
	w, _ := Create(bg, Dir(root), "b1", Source{}, time.Now())
	res, err := Files(bg, w, SetPackages, src, FilesOptions{Match: PackageFile})
	if err != nil || res.Files != 3 {
		t.Fatalf("%+v %v", res, err)
	}
	if _, err := Files(bg, w, "../x", src, FilesOptions{}); err == nil {
		t.Error("a file set name with a path accepted")
	}
}

func TestRowsFormat(t *testing.T) {
	var buf bytes.Buffer
	h := rowsHeader{Keyspace: "ks", Table: "T", Columns: []columnSchema{{Name: "a", Type: "int", Kind: "partition_key"}, {Name: "b", Type: "blob", Kind: "regular"}}}
	rw, _ := newRowsWriter(&buf, h)
	rows := [][][]byte{{{0, 0, 0, 1}, nil}, {{0, 0, 0, 2}, {}}, {{0, 0, 0, 3}, bytes.Repeat([]byte{0}, 300)}}
	for _, r := range rows {
		rw.row(r)
	}
	rw.close()
	full := buf.Bytes()
	rr, err := newRowsReader(bytes.NewReader(full), "x")
	if err != nil || rr.header.Table != "T" {
		t.Fatal(err)
	}
	for i := range rows {
		vals := make([][]byte, 2)
		if err := rr.next(vals); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(vals[0], rows[i][0]) || (vals[1] == nil) != (rows[i][1] == nil) || !bytes.Equal(vals[1], rows[i][1]) {
			t.Errorf("row %d: %v", i, vals)
		}
	}
	if err := rr.next(make([][]byte, 2)); err != io.EOF {
		t.Errorf("end: %v", err)
	}
	rr, _ = newRowsReader(bytes.NewReader(full[:len(full)-10]), "unit.rows")
	var last error
	for last == nil {
		last = rr.next(make([][]byte, 2))
	}
	if !strings.Contains(last.Error(), "truncated") || !strings.Contains(last.Error(), "unit.rows") {
		t.Errorf("truncated rows file: %v", last)
	}
	if got := tupleBytes([][]byte{{1}, nil, {}}); !bytes.Equal(got, []byte{0, 0, 0, 1, 1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}) {
		t.Errorf("tuple bytes %v", got)
	}
	for typ, n := range map[string]int{"tuple<int, text>": 2, "frozen<tuple<int, map<text, int>, \"a,b\">>": 3, "list<tuple<int,int>>": 0, "int": 0, "tuple<int>": 1} {
		if tupleArity(typ) != n {
			t.Errorf("tupleArity(%s) = %d, want %d", typ, tupleArity(typ), n)
		}
	}
}
