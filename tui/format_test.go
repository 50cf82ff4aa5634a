package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/apimctl/apimctl/ops/model"

	"github.com/charmbracelet/x/ansi"
)

func TestHumanAge(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second: "0s", 12 * time.Second: "12s", 90 * time.Second: "1m", 59 * time.Minute: "59m",
		3 * time.Hour: "3h", 47 * time.Hour: "47h", 50 * time.Hour: "2d",
	} {
		if got := humanAge(d); got != want {
			t.Errorf("humanAge(%s) = %q, want %q", d, got, want)
		}
	}
	if got := ago(time.Time{}, fixedNow); got != "never" {
		t.Errorf("ago(zero) = %q", got)
	}
}

func TestFreshness(t *testing.T) {
	last := fixedNow.Add(-12 * time.Second)
	cases := []struct {
		src  model.SourceState
		want string
		tone tone
	}{
		{model.SourceState{Synced: true, LastSuccess: last}, "12s ago", toneOK},
		{model.SourceState{Synced: true, LastSuccess: last, Stale: true}, "stale · 12s ago", toneWarn},
		{model.SourceState{Synced: true, LastSuccess: last, Error: "boom"}, "error · last ok 12s ago", toneBad},
		{model.SourceState{Error: "boom"}, "error · no data yet", toneBad},
		{model.SourceState{}, "syncing", toneMuted},
	}
	for _, c := range cases {
		got, tn := freshness(c.src, fixedNow)
		if got != c.want || tn != c.tone {
			t.Errorf("freshness(%+v) = %q/%d, want %q/%d", c.src, got, tn, c.want, c.tone)
		}
	}
}

func TestSparkline(t *testing.T) {
	if got := sparkline([]float64{0, 1, 2, 3, 4, 5, 6, 7}, 8); got != "▁▂▃▄▅▆▇█" {
		t.Errorf("ramp = %q", got)
	}
	if got := sparkline([]float64{9, 9, 0, 7, 7}, 3); got != "▁██" {
		t.Errorf("last 3 of a series = %q, want the last three samples scaled from 0", got)
	}
	if got := sparkline([]float64{0, 0, 0}, 5); got != "▁▁▁" {
		t.Errorf("flat zero = %q", got)
	}
	if got := sparkline(nil, 5); got != "" {
		t.Errorf("empty = %q", got)
	}
}

func TestTruncation(t *testing.T) {
	if got := truncate("abcdefgh", 5); got != "abcd…" {
		t.Errorf("truncate = %q", got)
	}
	if got := truncateMiddle("traffic-default-7d9f8b6c5d-00001", 20); got != "traffic-de…c5d-00001" || ansi.StringWidth(got) != 20 {
		t.Errorf("truncateMiddle = %q", got)
	}
	if got := fit("✓ ok", 6); got != "✓ ok  " {
		t.Errorf("fit = %q", got)
	}
	if got := fitRight("7", 3); got != "  7" {
		t.Errorf("fitRight = %q", got)
	}
}

func TestTableDropsLowPriorityColumnsFirst(t *testing.T) {
	c := newCommon(fixedClock, "")
	tbl := newTable(c, []column{
		{title: "NAME", min: 10, flex: true},
		{title: "KEEP", min: 4},
		{title: "LOW", min: 10, prio: 1},
		{title: "MID", min: 10, prio: 5},
	}, "none")
	tbl.SetRows([]row{{id: "a", cells: []cell{{text: strings.Repeat("n", 30)}, {text: "keep"}, {text: "low-column"}, {text: "mid-column"}}}})
	tbl.SetSize(200, 5)
	if tbl.widths[0] != 30 || tbl.widths[2] == 0 || tbl.widths[3] == 0 {
		t.Fatalf("wide: widths %v", tbl.widths)
	}
	tbl.SetSize(2+10+2+4+2+10, 5) // room for NAME at its minimum, KEEP and one more
	if tbl.widths[2] != 0 || tbl.widths[3] == 0 || tbl.widths[0] != 10 {
		t.Fatalf("narrow: widths %v, want LOW dropped, MID kept, NAME shrunk to 10", tbl.widths)
	}
	for _, l := range strings.Split(ansi.Strip(tbl.View()), "\n") {
		if ansi.StringWidth(l) > 30 {
			t.Fatalf("line %q wider than the table", l)
		}
	}
}

func TestSortFindingsMostSevereFirst(t *testing.T) {
	got := sortFindings([]model.Finding{
		{ID: "B", Severity: model.SeverityInfo}, {ID: "C", Severity: model.SeverityError},
		{ID: "A", Severity: model.SeverityWarning}, {ID: "A", Severity: model.SeverityError},
	})
	var ids []string
	for _, f := range got {
		ids = append(ids, string(f.Severity)+":"+f.ID)
	}
	if strings.Join(ids, " ") != "error:A error:C warning:A info:B" {
		t.Fatalf("order %v", ids)
	}
}

func TestHPAHealth(t *testing.T) {
	d := degradedSnapshot()
	if text, tn := hpaHealth(d.Topology.Groups[0].HPA); text != "FailedGetResourceMetric" || tn != toneBad {
		t.Errorf("degraded HPA: %q/%d", text, tn)
	}
	h := healthySnapshot()
	if text, tn := hpaHealth(h.Topology.Groups[0].HPA); text != "scaling ok" || tn != toneOK {
		t.Errorf("healthy HPA: %q/%d", text, tn)
	}
	// Held at min by low load is the quiet normal; pinned at max is a warning.
	cpu := int32(3)
	for reason, want := range map[string]struct {
		text string
		tn   tone
	}{"TooFewReplicas": {"scaling ok, at min", toneOK}, "TooManyReplicas": {"limited: TooManyReplicas", toneWarn}} {
		c := model.Condition{Type: "ScalingLimited", Status: "True", Reason: reason}
		hpa := model.HPAState{Min: 3, Max: 12, Current: 3, CPUTargetPercent: 75, CPUCurrentPercent: &cpu, Conditions: []model.Condition{c}}
		if text, tn := hpaHealth(&hpa); text != want.text || tn != want.tn {
			t.Errorf("%s: %q/%d, want %q/%d", reason, text, tn, want.text, want.tn)
		}
		if tn := conditionTone(c); tn != want.tn {
			t.Errorf("%s condition tone %d, want %d", reason, tn, want.tn)
		}
	}
	if tn := conditionTone(model.Condition{Type: "ScaledToZero", Status: "False", Reason: "NotScaledToZero"}); tn != toneOK {
		t.Errorf("ScaledToZero False (the usual state) has tone %d", tn)
	}
}

func TestDesiredReplicasUnknownWithoutMetrics(t *testing.T) {
	cpu := int32(40)
	for _, c := range []struct {
		h    model.HPAState
		want string
	}{
		{model.HPAState{Current: 3, Desired: 0}, "?"},
		{model.HPAState{Current: 3, Desired: 0, CPUCurrentPercent: &cpu}, "0"},
		{model.HPAState{Current: 3, Desired: 5}, "5"},
	} {
		if got := desiredReplicas(&c.h); got != c.want {
			t.Errorf("%+v: %q, want %q", c.h, got, c.want)
		}
	}
}
