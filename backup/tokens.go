package backup

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// TokenRange is a range (Start, End] of Murmur3 tokens. The whole ring is
// (math.MinInt64, math.MaxInt64]: Murmur3Partitioner never gives a key the minimum token.
type TokenRange struct{ Start, End int64 }

// FullRing is every token.
var FullRing = TokenRange{math.MinInt64, math.MaxInt64}

func (r TokenRange) String() string { return fmt.Sprintf("(%d,%d]", r.Start, r.End) }

// ParseTokenRange reads what String writes.
func ParseTokenRange(s string) (TokenRange, error) {
	in, ok := strings.CutPrefix(s, "(")
	in, ok2 := strings.CutSuffix(in, "]")
	a, b, ok3 := strings.Cut(in, ",")
	if !ok || !ok2 || !ok3 {
		return TokenRange{}, fmt.Errorf("token range %q: want (a,b]", s)
	}
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || start >= end {
		return TokenRange{}, fmt.Errorf("token range %q: want (a,b] with a < b", s)
	}
	return TokenRange{start, end}, nil
}

// RingRanges returns the ranges between a ring's tokens (each node owns the ranges ending at
// its tokens), in token order, covering the whole ring exactly once: the range that wraps
// around is cut at the ring's ends. No tokens (or one) give the whole ring.
func RingRanges(tokens []int64) []TokenRange {
	t := slices.Clone(tokens)
	slices.Sort(t)
	t = slices.Compact(t)
	var out []TokenRange
	prev := int64(math.MinInt64)
	for _, tok := range t {
		if tok > prev {
			out = append(out, TokenRange{prev, tok})
		}
		prev = tok
	}
	if prev < math.MaxInt64 {
		out = append(out, TokenRange{prev, math.MaxInt64})
	}
	return out
}

// Split divides r into n contiguous ranges of nearly equal width (fewer when r is narrower
// than n tokens).
func (r TokenRange) Split(n int) []TokenRange {
	width := uint64(r.End) - uint64(r.Start) // exact, even across zero
	if n < 1 {
		n = 1
	}
	if uint64(n) > width {
		n = int(width)
	}
	step := width / uint64(n)
	out := make([]TokenRange, 0, n)
	start := r.Start
	for i := range n {
		end := int64(uint64(start) + step)
		if i == n-1 {
			end = r.End
		}
		out = append(out, TokenRange{start, end})
		start = end
	}
	return out
}

// PlanUnits divides the ring into about n units of work, each a list of contiguous ranges
// that follow the ring's own ranges (so a range read is served by one replica set): with
// more units than ring ranges each ring range is split, with fewer they are grouped.
func PlanUnits(ring []TokenRange, n int) [][]TokenRange {
	if len(ring) == 0 {
		ring = []TokenRange{FullRing}
	}
	if n <= 1 {
		return [][]TokenRange{ring}
	}
	var out [][]TokenRange
	if n >= len(ring) {
		per := (n + len(ring) - 1) / len(ring)
		for _, r := range ring {
			for _, s := range r.Split(per) {
				out = append(out, []TokenRange{s})
			}
		}
		return out
	}
	per := (len(ring) + n - 1) / n
	for i := 0; i < len(ring); i += per {
		out = append(out, ring[i:min(i+per, len(ring))])
	}
	return out
}
