package inspect_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/apimctl/apimctl/lab"
	"github.com/apimctl/apimctl/lab/traffic"
	"github.com/apimctl/apimctl/ops/inspect"
	"github.com/apimctl/apimctl/ops/model"
)

// sendTraffic sends rps requests a second for d through the lab's traffic pods (bounded:
// a small load for a few seconds) and returns its summary.
func sendTraffic(t *testing.T, env *lab.Env, rps int, d time.Duration) traffic.Summary {
	t.Helper()
	l, err := lab.Open(env.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	o, err := l.TrafficOptions(rps, d)
	if err != nil {
		t.Fatal(err)
	}
	s, err := traffic.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return *s
}

// waitTraffic asks for a traffic detail until its requests-per-second series has a value
// (Prometheus scrapes every 5 s and a rate needs two samples).
func waitTraffic(t *testing.T, ins *inspect.Inspector, group, api string) *model.TrafficDetail {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		d, err := ins.Traffic(context.Background(), group, api)
		if err != nil {
			t.Fatal(err)
		}
		if !d.RPS.Empty() && d.RPS.Last() > 0 && len(d.Pods) > 0 {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("no traffic for %s/%s within 45s: rps %v pods %v", group, api, d.RPS.Values, d.Pods)
		}
		time.Sleep(2 * time.Second)
	}
}

// TestTrafficDetailFromRangeQueries: after a little real traffic through the lab's gateways,
// the group's and an API's drill-downs have 15 minutes of 15 s points with recent values, the
// pods that served it, and only gateway traffic (the API Manager's and ANM's own requests are
// not in the group's series).
func TestTrafficDetailFromRangeQueries(t *testing.T) {
	ins, env := dataInspector(t)
	sum := sendTraffic(t, env, 20, 15*time.Second)
	if sum.OK == 0 {
		t.Fatalf("no request succeeded: %+v", sum)
	}
	d := waitTraffic(t, ins, "default", "")
	if n := len(d.RPS.Values); n != 61 || d.RPS.Step != 15*time.Second || len(d.P99.Values) != n || len(d.ErrorRatio.Values) != n {
		t.Errorf("series of %d points at %s, want 61 at 15s", n, d.RPS.Step)
	}
	if p90, p99 := d.P90.Last(), d.P99.Last(); math.IsNaN(p90) || p90 <= 0 || p99 < p90 {
		t.Errorf("p90 %v p99 %v", p90, p99)
	}
	for _, p := range d.Pods {
		if !strings.HasPrefix(p.Pod, "traffic-") || p.Namespace != env.Namespace {
			t.Errorf("pod %+v serves the group's traffic: only the traffic pods should", p)
		}
	}
	t.Logf("group: rps %.1f, p90 %.1f ms, %d pods, errors %+v", d.RPS.Last(), d.P90.Last()*1000, len(d.Pods), d.TopErrors)

	// One API's share of the group's traffic: compared at the peak of the burst, since the two
	// range queries end at different instants (their last points do not cover the same time).
	da := waitTraffic(t, ins, "default", "payments")
	d = waitTraffic(t, ins, "default", "")
	if da.API != "payments" || peak(da.RPS) <= 0 || peak(da.RPS) > peak(d.RPS)*1.1+0.01 {
		t.Errorf("API payments peaks at %.2f rps, its group at %.2f", peak(da.RPS), peak(d.RPS))
	}
}

func peak(s model.Series) float64 {
	m := 0.0
	for _, v := range s.Values {
		if !math.IsNaN(v) && v > m {
			m = v
		}
	}
	return m
}

// TestTrafficDetailWithoutSeries: a group Prometheus has no series of (or a name that tries
// to break out of the label matcher) gives empty series, not an error; a Prometheus that does
// not answer is an error within the timeout.
func TestTrafficDetailWithoutSeries(t *testing.T) {
	ins, _ := dataInspector(t)
	for _, g := range []string{"no-such-group", `x"} or vector(1) or {a="`} {
		d, err := ins.Traffic(context.Background(), g, "")
		if err != nil {
			t.Fatalf("%q: %v", g, err)
		}
		if !d.RPS.Empty() || !d.P90.Empty() || !d.ErrorRatio.Empty() || len(d.Pods) != 0 || len(d.TopErrors) != 0 {
			t.Errorf("%q: data %+v", g, d)
		}
	}
	ins.Conn.Targets.PrometheusURL = "http://127.0.0.1:1"
	start := time.Now()
	if _, err := ins.Traffic(context.Background(), "default", ""); err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("unreachable Prometheus: %v", err)
	}
	t.Logf("unreachable after %s", time.Since(start).Round(time.Millisecond))
}
