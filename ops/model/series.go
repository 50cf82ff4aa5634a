package model

import (
	"encoding/json"
	"math"
	"sort"
	"time"
)

// AlignSeries lays samples (times ts, values vs, in any order) on the grid start, start+step,
// …, n points: a sample counts for the grid point it falls on (within half a step); grid
// points with none are NaN. Prometheus range queries leave out the steps where a series had
// no value, so a series that began five minutes ago has fewer points than the window: aligned,
// it draws as a gap followed by the data, not as data stretched over the window.
func AlignSeries(start time.Time, step time.Duration, n int, ts []time.Time, vs []float64) Series {
	s := Series{Start: start, Step: step, Values: make([]float64, max(n, 0))}
	for i := range s.Values {
		s.Values[i] = math.NaN()
	}
	if step <= 0 || n <= 0 {
		return s
	}
	for i := range min(len(ts), len(vs)) {
		d := ts[i].Sub(start)
		k := int((d + step/2) / step)
		if d < -step/2 || k < 0 || k >= n {
			continue
		}
		v := vs[i]
		if math.IsInf(v, 0) {
			v = math.NaN()
		}
		s.Values[k] = v
	}
	return s
}

// Empty reports whether the series holds no value at all.
func (s Series) Empty() bool {
	for _, v := range s.Values {
		if !math.IsNaN(v) {
			return false
		}
	}
	return true
}

// Last is the newest value, NaN when there is none.
func (s Series) Last() float64 {
	for i := len(s.Values) - 1; i >= 0; i-- {
		if !math.IsNaN(s.Values[i]) {
			return s.Values[i]
		}
	}
	return math.NaN()
}

// MarshalJSON writes NaN as null (JSON has no NaN).
func (s Series) MarshalJSON() ([]byte, error) {
	vals := make([]*float64, len(s.Values))
	for i := range s.Values {
		if !math.IsNaN(s.Values[i]) && !math.IsInf(s.Values[i], 0) {
			vals[i] = &s.Values[i]
		}
	}
	return json.Marshal(struct {
		Start  time.Time     `json:"start"`
		Step   time.Duration `json:"step"`
		Values []*float64    `json:"values"`
	}{s.Start, s.Step, vals})
}

// Roles' and unmatched requests' series carry these api labels: the Admin Node Manager and
// API Manager count their own requests under their role's name, and a traffic gateway counts
// requests no API matched under "-".
const (
	APILabelANM       = "anm"
	APILabelAPIMgr    = "apimgr"
	APILabelUnmatched = "-"
)

// IsAPI reports whether an api label names an API: not a management role's own requests nor
// the unmatched ones.
func IsAPI(api string) bool {
	switch api {
	case APILabelANM, APILabelAPIMgr, APILabelUnmatched, "":
		return false
	}
	return true
}

// IsGatewayTraffic reports whether a series with this api label is traffic through a gateway
// group (APIs and unmatched requests), not a management role's own requests.
func IsGatewayTraffic(api string) bool { return api != APILabelANM && api != APILabelAPIMgr }

// maxTopErrors is how many kinds of error a traffic detail lists.
const maxTopErrors = 8

// TopErrors keeps the errors that happened (a rate above zero), the most frequent first, at
// most eight.
func TopErrors(rs []CodeRate) []CodeRate {
	out := make([]CodeRate, 0, len(rs))
	for _, r := range rs {
		if r.RPS > 0 && !math.IsNaN(r.RPS) && !math.IsInf(r.RPS, 0) {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].RPS != out[j].RPS {
			return out[i].RPS > out[j].RPS
		}
		return out[i].Code+out[i].Reason < out[j].Code+out[j].Reason
	})
	return out[:min(len(out), maxTopErrors)]
}
