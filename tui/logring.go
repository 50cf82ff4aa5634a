package tui

import (
	"strings"
	"unicode/utf8"
)

// logRing holds the newest lines of a log within a line count and a byte budget, the oldest
// going first: a log view's memory stays bounded however long it follows. Lines are
// numbered from the first ever pushed (seq), so positions survive the oldest going.
type logRing struct {
	lines    []string // circular once full
	start    int      // index of the oldest line in lines
	n        int
	bytes    int
	maxLines int
	maxBytes int
	first    int64 // seq of the oldest line held
	dropped  int64 // lines that went to keep within the bounds
}

// Bounds of a log view: 100,000 lines, and 40 MiB of text whatever their length (a line of
// the log stream is at most 64 KiB).
const (
	logMaxLines = 100_000
	logMaxBytes = 40 << 20
)

func newLogRing(maxLines, maxBytes int) *logRing {
	return &logRing{maxLines: max(maxLines, 1), maxBytes: max(maxBytes, 1)}
}

// push appends a line, dropping the oldest while over a bound. It returns how many went.
func (r *logRing) push(s string) int {
	dropped := 0
	for r.n > 0 && (r.n >= r.maxLines || r.bytes+len(s) > r.maxBytes) {
		r.dropOldest()
		dropped++
	}
	if len(r.lines) < r.maxLines && r.start == 0 && r.n == len(r.lines) {
		r.lines = append(r.lines, s)
	} else {
		r.lines[(r.start+r.n)%len(r.lines)] = s
	}
	r.n++
	r.bytes += len(s)
	return dropped
}

func (r *logRing) dropOldest() {
	r.bytes -= len(r.lines[r.start])
	r.lines[r.start] = ""
	r.start = (r.start + 1) % len(r.lines)
	r.n--
	r.first++
	r.dropped++
}

// len is how many lines it holds; at(i) the i-th oldest (0 ≤ i < len).
func (r *logRing) len() int          { return r.n }
func (r *logRing) at(i int) string   { return r.lines[(r.start+i)%len(r.lines)] }
func (r *logRing) seqOf(i int) int64 { return r.first + int64(i) }

// index is the position of the line numbered seq (false when it went or never was).
func (r *logRing) index(seq int64) (int, bool) {
	i := seq - r.first
	if i < 0 || i >= int64(r.n) {
		return 0, false
	}
	return int(i), true
}

// all returns the lines oldest first (the strings are shared, not copied).
func (r *logRing) all() []string {
	out := make([]string, r.n)
	for i := range out {
		out[i] = r.at(i)
	}
	return out
}

// matcher finds a search term in lines: case-insensitively when the term is all lower case
// ("smart case"), exactly otherwise. It allocates nothing per line.
type matcher struct {
	term string
	fold bool
}

func newMatcher(term string) matcher {
	return matcher{term: term, fold: term == strings.ToLower(term)}
}

// index is the byte offset of the first match in s at or after from, -1 when none.
func (m matcher) index(s string, from int) int {
	if m.term == "" || from > len(s) {
		return -1
	}
	if !m.fold {
		if i := strings.Index(s[from:], m.term); i >= 0 {
			return from + i
		}
		return -1
	}
	n := len(m.term)
	first := m.term[0]
	for i := from; i+n <= len(s); i++ {
		c := s[i]
		if c != first && lowerASCII(c) != first {
			if c < utf8.RuneSelf {
				continue
			}
		}
		if strings.EqualFold(s[i:i+n], m.term) {
			return i
		}
	}
	return -1
}

func (m matcher) match(s string) bool { return m.index(s, 0) >= 0 }

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// sanitize makes a log line safe to draw: control characters (an escape sequence could move
// the cursor, retitle or reprogram the terminal) become visible symbols, tabs spaces, and
// invalid UTF-8 and bidirectional overrides the replacement character.
func sanitize(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		switch {
		case r == '\t':
			b.WriteString("    ")
		case r < 0x20:
			b.WriteRune(0x2400 + r) // ␛, ␍, …
		case r == 0x7f:
			b.WriteRune('␡')
		case r >= 0x80 && r < 0xa0, r == utf8.RuneError,
			r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069: // bidirectional overrides reorder what is shown
			b.WriteRune('�')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
