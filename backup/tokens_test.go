package backup

import (
	"math"
	"testing"
)

// covers checks that ranges are contiguous and cover (MinInt64, MaxInt64] exactly.
func covers(t *testing.T, rs []TokenRange) {
	t.Helper()
	if len(rs) == 0 || rs[0].Start != math.MinInt64 || rs[len(rs)-1].End != math.MaxInt64 {
		t.Fatalf("ranges %v do not span the ring", rs)
	}
	for i := range rs {
		if rs[i].Start >= rs[i].End {
			t.Fatalf("empty range %v", rs[i])
		}
		if i > 0 && rs[i].Start != rs[i-1].End {
			t.Fatalf("gap or overlap between %v and %v", rs[i-1], rs[i])
		}
	}
}

func TestRingRanges(t *testing.T) {
	covers(t, RingRanges(nil))
	rs := RingRanges([]int64{100, -5, 7, 7, math.MaxInt64})
	covers(t, rs)
	if len(rs) != 4 || rs[0] != (TokenRange{math.MinInt64, -5}) || rs[3] != (TokenRange{100, math.MaxInt64}) {
		t.Errorf("ring ranges %v", rs)
	}
	split := FullRing.Split(7)
	covers(t, split)
	if len(split) != 7 {
		t.Errorf("%d splits", len(split))
	}
	if n := len((TokenRange{0, 3}).Split(10)); n != 3 {
		t.Errorf("a 3-token range split into %d", n)
	}
	rs = RingRanges([]int64{-1 << 40, 0, 1 << 40})
	for _, n := range []int{1, 3, 4, 48, 100} {
		var flat []TokenRange
		units := PlanUnits(rs, n)
		for _, u := range units {
			for i := 1; i < len(u); i++ {
				if u[i].Start != u[i-1].End {
					t.Errorf("unit %v is not contiguous", u)
				}
			}
			flat = append(flat, u...)
		}
		covers(t, flat)
		if n > 1 && n <= len(rs) && len(units) > n {
			t.Errorf("PlanUnits(%d) made %d units", n, len(units))
		}
		if n >= len(rs) && len(units) < n {
			t.Errorf("PlanUnits(%d) made %d units", n, len(units))
		}
	}
	r, err := ParseTokenRange(TokenRange{-3, 9}.String())
	if err != nil || r != (TokenRange{-3, 9}) {
		t.Errorf("parse: %v %v", r, err)
	}
	for _, bad := range []string{"", "(1,1]", "(2,1]", "[1,2]", "(a,2]"} {
		if _, err := ParseTokenRange(bad); err == nil {
			t.Errorf("ParseTokenRange(%q) accepted", bad)
		}
	}
}

func TestParseConsistency(t *testing.T) {
	for in, ok := range map[string]bool{"": true, "quorum": true, "LOCAL_QUORUM": true, "all": true, "each_quorum": false, "x": false} {
		if _, err := ParseConsistency(in); (err == nil) != ok {
			t.Errorf("ParseConsistency(%q): %v", in, err)
		}
	}
}
