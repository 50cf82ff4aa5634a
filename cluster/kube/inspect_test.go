package kube

import (
	"errors"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReadLinesSplitsAndBounds(t *testing.T) {
	long := strings.Repeat("y", MaxLogLine+100)
	in := "first\n\nsecond line\n" + long + "\nlast without newline"
	var got []string
	if err := readLines(iotest.HalfReader(strings.NewReader(in)), func(l string) { got = append(got, l) }); err != nil {
		t.Fatal(err)
	}
	want := []string{"first", "", "second line", long[:MaxLogLine] + "…", "last without newline"}
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: got %.40q… (%d bytes), want %.40q… (%d bytes)", i, got[i], len(got[i]), want[i], len(want[i]))
		}
	}
}

func TestReadLinesReportsAReadError(t *testing.T) {
	boom := errors.New("connection reset")
	var got []string
	err := readLines(iotest.DataErrReader(iotest.ErrReader(boom)), func(l string) { got = append(got, l) })
	if !errors.Is(err, boom) || len(got) != 0 {
		t.Fatalf("err %v, lines %q", err, got)
	}
}
