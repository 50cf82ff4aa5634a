package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// writeInstance runs one "process instance": what it prints to stdout and stderr, then its
// exit (the write ends closed), and waits until the log holds its lines.
func writeInstance(t *testing.T, dir, out, errOut string, wantLines int) string {
	t.Helper()
	stdout, stderr, err := openInstanceLog(dir)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(stdout, out)
	fmt.Fprint(stderr, errOut)
	stdout.Close()
	stderr.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(filepath.Join(dir, LogFile))
		if strings.Count(string(b), "\n") >= wantLines || time.Now().After(deadline) {
			return string(b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var criLine = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z (stdout|stderr) (F|P) (.*)$`)

func TestInstanceLogIsCRIFormatAndKeepsThePrevious(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("x", criMaxLine+10)
	got := writeInstance(t, dir, "{\"msg\":\"serving\"}\n"+long+"\nno newline at exit", "boom\n", 5)
	var entries []string
	for _, l := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
		m := criLine.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("not a CRI log line: %.80q", l)
		}
		entries = append(entries, m[2]+" "+m[3]+" "+strings.ReplaceAll(m[4], long[:criMaxLine], "<16KiB>"))
	}
	want := map[string]bool{
		`stdout F {"msg":"serving"}`: true, "stdout P <16KiB>": true, "stdout F xxxxxxxxxx": true,
		"stdout F no newline at exit": true, "stderr F boom": true,
	}
	if len(entries) != len(want) {
		t.Fatalf("entries %q", entries)
	}
	for _, e := range entries {
		if !want[e] {
			t.Errorf("unexpected entry %.60q", e)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, LogFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("log file mode: %v %v", fi, err)
	}
	// The next instance starts a fresh log; the first becomes the previous one.
	second := writeInstance(t, dir, "second instance\n", "", 1)
	if !strings.Contains(second, "stdout F second instance") || strings.Contains(second, "serving") {
		t.Fatalf("second instance's log: %q", second)
	}
	prev, err := os.ReadFile(filepath.Join(dir, PreviousLogFile))
	if err != nil || string(prev) != got {
		t.Fatalf("previous log is not the first instance's: %v", err)
	}
}

func TestValidNameKeepsRequestsInThePodsDirectory(t *testing.T) {
	for name, ok := range map[string]bool{
		"traffic-7d9f8-x": true, "apim": true, "a.b": true,
		"": false, ".": false, "..": false, "../etc": false, "a/b": false, `a\b`: false, "A": false, "a_b": false,
	} {
		if validName(name) != ok {
			t.Errorf("validName(%q) = %v, want %v", name, !ok, ok)
		}
	}
}
