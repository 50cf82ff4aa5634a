package tui

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/apimctl/apimctl/internal/format"
	"github.com/apimctl/apimctl/ops/model"

	"github.com/charmbracelet/x/ansi"
)

// width is the display width of s in cells; plain ASCII, the common case in tables, skips the
// grapheme walk.
func width(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 || s[i] == 0x1b {
			return ansi.StringWidth(s)
		}
	}
	return len(s)
}

// truncate cuts s (which may be styled) to w cells, ending with "…" when cut.
func truncate(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if width(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}

// truncateMiddle cuts plain text s to w cells by replacing its middle with "…", keeping the
// start and the (more telling) end.
func truncateMiddle(s string, w int) string {
	if width(s) <= w {
		return s
	}
	if w < 8 {
		return truncate(s, w)
	}
	tail := (w - 1) / 2
	head := w - 1 - tail
	return ansi.Truncate(s, head, "") + "…" + ansi.TruncateLeft(s, width(s)-tail, "")
}

// fit truncates or pads s to exactly w cells.
func fit(s string, w int) string {
	s = truncate(s, w)
	if n := width(s); n < w {
		s += strings.Repeat(" ", w-n)
	}
	return s
}

// fitRight is fit with the text aligned right.
func fitRight(s string, w int) string {
	s = truncate(s, w)
	if n := width(s); n < w {
		s = strings.Repeat(" ", w-n) + s
	}
	return s
}

// humanAge says a duration the way kubectl does: 12s, 5m, 3h, 4d (format.Age, as the
// command line says it).
// eventLine is an event in a detail: its age, a mark and its reason (a warning's in the
// warning tone), how often it repeated, then rest (the message, as the caller shows it).
func eventLine(st *Styles, e model.EventInfo, now time.Time, indent, rest string) string {
	t, typ := toneMuted, "·"
	if e.Type == "Warning" {
		t, typ = toneWarn, "!"
	}
	count := ""
	if e.Count > 1 {
		count = fmt.Sprintf(" ×%d", e.Count)
	}
	return fmt.Sprintf("%s%s %s%s  %s", indent, fitRight(ago(e.Time, now), 8), st.paint(t, typ+" "+e.Reason), count, rest)
}

func humanAge(d time.Duration) string { return format.Age(d) }

// ago is "12s ago", or "never" for a zero time.
func ago(t, now time.Time) string { return format.Ago(t, now) }

// freshness is what a title bar says about its source: "✓ 12s ago", "! stale · 3m ago",
// "✗ error · last ok 2m ago" or "syncing". A failing source keeps its last data; this only
// marks it, and sourceBanner spells the error out.
func freshness(src model.SourceState, now time.Time) (string, tone) {
	switch {
	case src.Error != "" && !src.Synced:
		return "error · no data yet", toneBad
	case src.Error != "":
		return "error · last ok " + ago(src.LastSuccess, now), toneBad
	case !src.Synced:
		return "syncing", toneMuted
	case src.Stale:
		return "stale · " + ago(src.LastSuccess, now), toneWarn
	}
	return ago(src.LastSuccess, now), toneOK
}

// shortFreshness is the compact form for the status strip: "✓ 3s", "! stale", "✗ error".
func shortFreshness(src model.SourceState, now time.Time) (string, tone) {
	switch {
	case src.Error != "":
		return "error", toneBad
	case !src.Synced:
		return "syncing", toneMuted
	case src.Stale:
		return "stale", toneWarn
	}
	return humanAge(now.Sub(src.LastSuccess)), toneOK
}

// sparkBlocks are the eight levels of a sparkline.
var sparkBlocks = []rune("▁▂▃▄▅▆▇█")

// sparkline draws the last n values of vals, scaled from 0 (or the minimum, if negative) to
// the maximum. A flat series draws the lowest block so an idle gateway still shows a line.
func sparkline(vals []float64, n int) string {
	if n <= 0 || len(vals) == 0 {
		return ""
	}
	if len(vals) > n {
		vals = vals[len(vals)-n:]
	}
	lo, hi := 0.0, 0.0
	for _, v := range vals {
		if math.IsNaN(v) {
			continue
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	var b strings.Builder
	for _, v := range vals {
		i := 0
		if hi > lo && !math.IsNaN(v) {
			i = int(math.Round((v - lo) / (hi - lo) * float64(len(sparkBlocks)-1)))
		}
		b.WriteRune(sparkBlocks[i])
	}
	return b.String()
}

// bar draws a fill gauge of w cells: "█████░░░░░" for frac 0.5.
func bar(frac float64, w int) string {
	if w <= 0 {
		return ""
	}
	frac = math.Max(0, math.Min(1, frac))
	full := int(math.Round(frac * float64(w)))
	return strings.Repeat("█", full) + strings.Repeat("░", w-full)
}

// fmtRate formats requests per second with sensible precision.
func fmtRate(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// fmtMillis formats seconds as milliseconds.
func fmtMillis(sec float64) string {
	ms := sec * 1000
	if ms >= 100 {
		return fmt.Sprintf("%.0f ms", ms)
	}
	return fmt.Sprintf("%.1f ms", ms)
}

// fmtPercent formats a ratio (0..1) as a percentage.
func fmtPercent(r float64) string {
	p := r * 100
	if p != 0 && p < 0.1 {
		return "<0.1%"
	}
	return fmt.Sprintf("%.1f%%", p)
}

// fmtUptime is a duration as "3d 4h" / "4h 12m" / "12m".
func fmtUptime(d time.Duration) string {
	days := int(d / (24 * time.Hour))
	h := int(d/time.Hour) % 24
	m := int(d/time.Minute) % 60
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh", days, h)
	case h > 0:
		return fmt.Sprintf("%dh %dm", h, m)
	}
	return fmt.Sprintf("%dm", m)
}

// severityTone maps a finding's severity to its tone and word.
func severityTone(s model.Severity) tone {
	switch s {
	case model.SeverityError:
		return toneBad
	case model.SeverityWarning:
		return toneWarn
	}
	return toneMuted
}

// wrap breaks plain text into lines of at most w cells.
func wrap(s string, w int) []string {
	if w <= 0 {
		return nil
	}
	return strings.Split(ansi.Wrap(s, w, " -/"), "\n")
}

// padLines makes lines exactly h long, each cut to w cells.
func padLines(lines []string, w, h int) string {
	if h <= 0 {
		return ""
	}
	out := make([]string, h)
	for i := range out {
		if i < len(lines) {
			out[i] = truncate(lines[i], w)
		}
	}
	return strings.Join(out, "\n")
}

// desiredReplicas shows the HPA's desired count, or "?" when it could not compute one (no
// metrics: the controller then reports 0 desired while keeping the current replicas).
func desiredReplicas(h *model.HPAState) string {
	if h.Desired == 0 && h.CPUCurrentPercent == nil {
		return "?"
	}
	return fmt.Sprint(h.Desired)
}
