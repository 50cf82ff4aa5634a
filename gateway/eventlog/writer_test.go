package eventlog

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apimctl/apimctl/gateway/metrics"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func dirSize(t *testing.T, dir string) (int64, int) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, e := range ents {
		fi, err := e.Info()
		if err == nil {
			total += fi.Size()
		}
	}
	return total, len(ents)
}

func TestWriterStaysUnderCapAndRotates(t *testing.T) {
	dir := t.TempDir()
	m := metrics.New("g1", "t1")
	const maxDisk, maxFile = 64 << 10, 8 << 10
	w, err := Open(Options{Dir: dir, Group: "g1", Instance: "gw-0", MaxDiskSize: maxDisk, MaxFileSize: maxFile, Buffer: 1 << 16, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	ev := Event{Time: time.Now(), API: "orders", Method: "GET", Path: "/orders/1", Status: 200, Latency: 1500 * time.Microsecond, BytesOut: 1024, KeyID: "k1", AppID: "a1"}
	peak := int64(0)
	for i := 0; i < 20000; i++ {
		for !w.Log(ev) {
			time.Sleep(time.Millisecond) // the test wants every event written, not dropped
		}
		if i%500 == 0 {
			if s, _ := dirSize(t, dir); s > peak {
				peak = s
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	size, files := dirSize(t, dir)
	if size > maxDisk || peak > maxDisk {
		t.Fatalf("event log is %d bytes (peak %d), cap %d", size, peak, maxDisk)
	}
	if files < 4 {
		t.Fatalf("expected rotation into several files, got %d", files)
	}
	written := testutil.ToFloat64(m.EventBytes)
	if written < 20000*100 {
		t.Fatalf("bytes counter %v too low", written)
	}
	if testutil.ToFloat64(m.EventFilesDeleted) == 0 {
		t.Fatal("no old file deleted although the log wrote far more than the cap")
	}
	// Every line of every remaining file is valid JSON with the fields the ANM reads.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var l Line
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatalf("%s: bad line %q: %v", e.Name(), sc.Text(), err)
			}
			if l.API != "orders" || l.Status != 200 || l.LatencyMs != 1.5 || l.Group != "g1" || l.Instance != "gw-0" || l.KeyID != "k1" {
				t.Fatalf("unexpected line %+v", l)
			}
		}
		f.Close()
	}
}

func TestWriterRestartCountsOldFiles(t *testing.T) {
	dir := t.TempDir()
	// Files left by a previous run of this instance count against the cap; another instance's
	// files are never touched.
	old := filepath.Join(dir, FilePrefix+"gw-0-00000000000000000001.jsonl")
	other := filepath.Join(dir, FilePrefix+"gw-0-extra-00000000000000000001.jsonl")
	if err := os.WriteFile(old, make([]byte, 60<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(other, make([]byte, 60<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := Open(Options{Dir: dir, Instance: "gw-0", MaxDiskSize: 64 << 10, MaxFileSize: 8 << 10})
	if err != nil {
		t.Fatal(err)
	}
	w.Log(Event{Time: time.Now(), API: "a", Status: 200})
	w.Close()
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Fatalf("old own file not deleted to make room: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("another instance's file was touched: %v", err)
	}
}

func TestLogDropsWhenFull(t *testing.T) {
	m := metrics.New("g", "t")
	w := &Writer{opts: Options{Metrics: m}, ch: make(chan Event, 2)}
	w.Log(Event{})
	w.Log(Event{})
	start := time.Now()
	if w.Log(Event{}) {
		t.Fatal("a full queue accepted the event")
	}
	if time.Since(start) > 10*time.Millisecond {
		t.Fatal("Log blocked")
	}
	if got := testutil.ToFloat64(m.EventsDropped); got != 1 {
		t.Fatalf("dropped = %v", got)
	}
}

func TestAppendJSONEscapes(t *testing.T) {
	e := Event{Time: time.Unix(0, 0), Path: "/a\"b\\c\x01\xff/é", Method: "GET"}
	b := appendJSON(nil, &e, "g", "i")
	var l Line
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if l.Path != "/a\"b\\c\x01\ufffd/é" {
		t.Fatalf("path %q", l.Path)
	}
	if strings.Contains(string(b), "keyId") {
		t.Fatal("empty key id written")
	}
}
